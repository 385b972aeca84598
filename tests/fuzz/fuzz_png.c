/* libFuzzer harness for the PNG reader: decodes the input from memory through
 * clstyle_png_read_buffer (the same core as clstyle_png_read) under a 4-megapixel cap,
 * and traps if a decoded image or an error breaks the reader's documented contract. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "png_io.h"

#define FUZZ_MAX_PIXELS ((size_t)4 * 1024 * 1024)

static void check_image(const clstyle_image *img)
{
    if (img->w < 1 || img->h < 1 || !img->data) __builtin_trap();
    size_t n = (size_t)img->w * (size_t)img->h;
    if (n / (size_t)img->w != (size_t)img->h || n > FUZZ_MAX_PIXELS) __builtin_trap();
    for (size_t i = 0; i < 3 * n; i++) {
        float v = img->data[i];
        if (!isfinite(v) || v < 0.0f || v > 255.0f) __builtin_trap();
    }
}

static void check_error(const clstyle_image *img, const clstyle_error *err)
{
    static const clstyle_image zero;
    if (memcmp(img, &zero, sizeof zero) != 0) __builtin_trap();
    if (err->status == CLSTYLE_OK || err->msg[0] == '\0') __builtin_trap();
    if (strchr(err->msg, '\n') || strchr(err->msg, '\r')) __builtin_trap();
    if (strncmp(err->msg, "fuzz.png", 8) != 0) __builtin_trap(); /* names the input */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clstyle_image img;
    clstyle_error err;
    memset(&img, 0xA5, sizeof img); /* the reader must zero it on failure */
    clstyle_err_clear(&err);
    clstyle_status st = clstyle_png_read_buffer(data, size, "fuzz.png", FUZZ_MAX_PIXELS, &img, &err);
    if (st == CLSTYLE_OK) {
        if (err.status != CLSTYLE_OK) __builtin_trap();
        check_image(&img);
        clstyle_image_free(&img);
    } else {
        if (st != err.status) __builtin_trap();
        check_error(&img, &err);
    }
    return 0;
}
