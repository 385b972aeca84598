/* PNG input and output for float RGB images (the only module that includes png.h), and
 * the clstyle_image container used by every CPU-side image utility.
 *
 * Reading. Every valid PNG format loads into (3, h, w) float RGB in pixel units 0..255:
 *   - gray, gray+alpha, palette (with or without tRNS), RGB, RGBA; 1, 2, 4, 8 and 16 bit;
 *     interlaced or not (an interlaced file and its non-interlaced twin give identical
 *     pixels).
 *   - 16-bit samples are taken to use the same sRGB-encoded scale as 8-bit ones and map
 *     to v / 257 (65535 -> 255.0). gAMA, cHRM, sRGB and iCCP are ignored: no gamma or
 *     colour-space conversion is ever applied.
 *   - Alpha (from an alpha channel or tRNS) is composited onto a WHITE background in the
 *     encoded space: out = a*c + (1 - a)*255 with a = A / Amax in [0, 1].
 *   - width*height is checked against a pixel cap before anything is allocated.
 * Any failure returns an error naming the file and the reason; no partial image is
 * ever returned, and libpng never prints anything.
 *
 * Writing. 8-bit or 16-bit RGB, non-interlaced, written atomically (temp file in the
 * same folder, fsync, rename): on failure the previous file is untouched. */
#ifndef CLSTYLE_PNG_IO_H
#define CLSTYLE_PNG_IO_H

#include <stddef.h>
#include "error.h"

typedef struct clstyle_image {
    int w, h;
    float *data; /* (3, h, w) planar RGB, pixel units 0..255 */
} clstyle_image;

#define CLSTYLE_PNG_DEFAULT_MAX_PIXELS (64u * 1024u * 1024u)

/* Reads path into *out (which must not own data; it is zeroed on failure).
 * max_pixels caps width*height (0 = CLSTYLE_PNG_DEFAULT_MAX_PIXELS).
 * Errors: CLSTYLE_ERR_NOINPUT (cannot open), CLSTYLE_ERR_DATA (not a PNG, corrupt,
 * truncated, over the pixel cap), CLSTYLE_ERR_IO (read error),
 * CLSTYLE_ERR_INTERNAL (out of memory). */
clstyle_status clstyle_png_read(const char *path, size_t max_pixels, clstyle_image *out,
                                clstyle_error *err);

/* The same reader on the len bytes at buf (which need not outlive the call); name
 * (NULL = "<memory>") stands in for the path in error messages. Errors as above, less
 * CLSTYLE_ERR_NOINPUT and CLSTYLE_ERR_IO. Used by the fuzz harness. */
clstyle_status clstyle_png_read_buffer(const void *buf, size_t len, const char *name,
                                       size_t max_pixels, clstyle_image *out, clstyle_error *err);

/* Writes img as an RGB PNG of bit_depth 8 or 16. Samples are clamped to [0, 255]
 * (NaN -> 0) and rounded to nearest, ties away from zero; 16-bit maps v -> round(v*257).
 * Errors: CLSTYLE_ERR_USAGE (bit depth), CLSTYLE_ERR_INTERNAL (invalid image),
 * CLSTYLE_ERR_CANTCREAT (temp file), CLSTYLE_ERR_IO (write failure). */
clstyle_status clstyle_png_write(const char *path, const clstyle_image *img, int bit_depth,
                                 clstyle_error *err);

/* Allocates a zero-filled w x h image (w, h >= 1; size computed overflow-checked).
 * Errors: CLSTYLE_ERR_USAGE (w or h < 1), CLSTYLE_ERR_INTERNAL (too large / no memory). */
clstyle_status clstyle_image_alloc(clstyle_image *img, int w, int h, clstyle_error *err);
/* Frees the pixels and zeroes the struct; safe on a zeroed struct and twice. */
void clstyle_image_free(clstyle_image *img);

#endif
