/* Image files by content and by name: reads a PNG or a JPEG whatever its name (the
 * first bytes decide), and writes JPEG for a .jpg/.jpeg name, PNG otherwise. The codecs
 * themselves are png_io.c and jpeg_io.c. */
#ifndef CLSTYLE_IMGFILE_H
#define CLSTYLE_IMGFILE_H

#include <stddef.h>

#include "error.h"
#include "png_io.h"

/* Reads path with the PNG or JPEG reader, chosen by its signature (see png_io.h and
 * jpeg_io.h for what each accepts); *out is zeroed on failure. max_pixels as there.
 * Errors: CLSTYLE_ERR_NOINPUT (cannot open, not a regular file), CLSTYLE_ERR_DATA
 * ("PATH: not a PNG or JPEG file", empty, or the codec's refusal), CLSTYLE_ERR_IO,
 * CLSTYLE_ERR_INTERNAL. */
clstyle_status clstyle_imgfile_read(const char *path, size_t max_pixels, clstyle_image *out,
                                    clstyle_error *err);

/* 1 when path ends in .jpg or .jpeg (any case), else 0. */
/* 1 when path ends in ext (".png"), case-insensitive. */
int clstyle_imgfile_has_ext(const char *path, const char *ext);
int clstyle_imgfile_is_jpeg(const char *path);

/* Writes img as JPEG at jpeg_quality (1..100) when clstyle_imgfile_is_jpeg(path), else
 * as PNG at png_bits (8 or 16); both atomically. png_bits must be 8 for a JPEG (16 is
 * refused: JPEG is 8-bit). Errors: CLSTYLE_ERR_USAGE (bits, quality), and the codec's. */
clstyle_status clstyle_imgfile_write(const char *path, const clstyle_image *img, int png_bits,
                                     int jpeg_quality, clstyle_error *err);

#endif
