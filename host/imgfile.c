/* Codec choice for image files: the signature picks the reader, the extension the
 * writer. Conventions are documented in imgfile.h. */
#include "imgfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"
#include "jpeg_io.h"

#define SNIFF_BYTES 8

static int is_png_sig(const unsigned char *b, size_t n)
{
    static const unsigned char sig[SNIFF_BYTES] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    return n >= SNIFF_BYTES && memcmp(b, sig, SNIFF_BYTES) == 0;
}

static int is_jpeg_sig(const unsigned char *b, size_t n)
{
    return n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

/* The first bytes of path, through the same checked open as the codecs use. */
static clstyle_status sniff(const char *path, unsigned char *b, size_t *n, clstyle_error *err)
{
    FILE *fp;
    clstyle_status st = clstyle_input_fopen(path, NULL, 0, &fp, err);
    if (st != CLSTYLE_OK) return st;
    *n = fread(b, 1, SNIFF_BYTES, fp);
    if (ferror(fp))
        st = clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    fclose(fp);
    return st;
}

clstyle_status clstyle_imgfile_read(const char *path, size_t max_pixels, clstyle_image *out,
                                    clstyle_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned char b[SNIFF_BYTES];
    size_t n = 0;
    clstyle_status st = sniff(path, b, &n, err);
    if (st != CLSTYLE_OK) return st;
    if (is_png_sig(b, n)) return clstyle_png_read(path, max_pixels, out, err);
    if (is_jpeg_sig(b, n)) return clstyle_jpeg_read(path, max_pixels, out, err);
    if (n == 0)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: not a PNG or JPEG file (empty file)",
                               path);
    return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: not a PNG or JPEG file", path);
}

int clstyle_imgfile_has_ext(const char *path, const char *ext)
{
    size_t n = path ? strlen(path) : 0, k = strlen(ext);
    return n >= k && strcasecmp(path + n - k, ext) == 0;
}

int clstyle_imgfile_is_jpeg(const char *path)
{
    return clstyle_imgfile_has_ext(path, ".jpg") || clstyle_imgfile_has_ext(path, ".jpeg");
}

clstyle_status clstyle_imgfile_write(const char *path, const clstyle_image *img, int png_bits,
                                     int jpeg_quality, clstyle_error *err)
{
    if (!clstyle_imgfile_is_jpeg(path)) return clstyle_png_write(path, img, png_bits, err);
    if (png_bits == 16)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "cannot write %s: JPEG is 8-bit; use a .png output for 16 bits",
                               path);
    if (png_bits != 8)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "cannot write %s: bit depth %d (must be 8 or 16)", path, png_bits);
    return clstyle_jpeg_write(path, img, jpeg_quality, err);
}
