/* The contract every image reader's fuzz harness checks (fuzz_png.c, fuzz_jpeg.c): a
 * decoded image is within the pixel cap with every sample finite in 0..255; a refusal
 * zeroes the image and says one line that names the input. Traps on any breach. */
#ifndef CLSTYLE_FUZZ_IMAGE_H
#define CLSTYLE_FUZZ_IMAGE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "png_io.h"

#define FUZZ_MAX_PIXELS ((size_t)4 * 1024 * 1024)

typedef clstyle_status (*fuzz_reader)(const void *buf, size_t len, const char *name, size_t max_pixels,
                                      clstyle_image *out, clstyle_error *err);

static void fuzz_check_image(const clstyle_image *img)
{
    if (img->w < 1 || img->h < 1 || !img->data) __builtin_trap();
    size_t n = (size_t)img->w * (size_t)img->h;
    if (n / (size_t)img->w != (size_t)img->h || n > FUZZ_MAX_PIXELS) __builtin_trap();
    for (size_t i = 0; i < 3 * n; i++) {
        float v = img->data[i];
        if (!isfinite(v) || v < 0.0f || v > 255.0f) __builtin_trap();
    }
}

static void fuzz_check_error(const clstyle_image *img, const clstyle_error *err, const char *name)
{
    static const clstyle_image zero;
    if (memcmp(img, &zero, sizeof zero) != 0) __builtin_trap();
    if (err->status == CLSTYLE_OK || err->msg[0] == '\0') __builtin_trap();
    if (strchr(err->msg, '\n') || strchr(err->msg, '\r')) __builtin_trap();
    if (strncmp(err->msg, name, strlen(name)) != 0) __builtin_trap(); /* names the input */
}

static int fuzz_image_one(fuzz_reader read, const uint8_t *data, size_t size, const char *name)
{
    clstyle_image img;
    clstyle_error err;
    memset(&img, 0xA5, sizeof img); /* the reader must zero it on failure */
    clstyle_err_clear(&err);
    clstyle_status st = read(data, size, name, FUZZ_MAX_PIXELS, &img, &err);
    if (st == CLSTYLE_OK) {
        if (err.status != CLSTYLE_OK) __builtin_trap();
        fuzz_check_image(&img);
        clstyle_image_free(&img);
    } else {
        if (st != err.status) __builtin_trap();
        fuzz_check_error(&img, &err, name);
    }
    return 0;
}

#endif
