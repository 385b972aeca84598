/* CPU image utilities on clstyle_image (no OpenCL): resizing with an exact area average
 * when shrinking and half-pixel bilinear when enlarging, and the --original-colors
 * luminance transfer. */
#ifndef CLSTYLE_IMAGE_H
#define CLSTYLE_IMAGE_H

#include "png_io.h"

/* Resize so the longest side equals `longest` keeping aspect ratio (each side rounded to
   nearest, ties up, at least 1). If the image already has that size it is copied unchanged
   (bit-exact). Downscaling uses an exact area-average (box filter over the source footprint
   with fractional edge weights, like OpenCV's INTER_AREA); upscaling uses bilinear
   (align_corners=False / half-pixel centres, source coordinate clamped to the edge pixels,
   like PyTorch). dst must not own data; it is zeroed on failure.
   Errors: CLSTYLE_ERR_USAGE (longest < 1), CLSTYLE_ERR_INTERNAL (no memory). */
/* The size clstyle_image_resize_longest gives a w x h image. */
void clstyle_image_longest_dims(int w, int h, int longest, int *ow, int *oh);
clstyle_status clstyle_image_resize_longest(const clstyle_image *src, int longest,
                                            clstyle_image *dst, clstyle_error *err);

/* Resize to exactly w x h with the same rules, chosen per axis (area when shrinking along
   an axis, bilinear when enlarging, a copy when equal). Separable: rows first, then
   columns, accumulated in double. */
clstyle_status clstyle_image_resize(const clstyle_image *src, int w, int h, clstyle_image *dst,
                                    clstyle_error *err);

/* --original-colors: out = luminance of `styled` combined with the chrominance of `content`
   (same size), using full-range BT.601 YCbCr (JPEG's):
   Y = .299R+.587G+.114B, Cb = 128 + (-.168736R -.331264G +.5B),
   Cr = 128 + (.5R -.418688G -.081312B), and the exact (double-precision) inverse of that
   matrix. Result not clamped. out must not own data.
   Errors: CLSTYLE_ERR_USAGE (sizes differ), CLSTYLE_ERR_INTERNAL (no memory). */
clstyle_status clstyle_image_original_colors(const clstyle_image *styled,
                                             const clstyle_image *content, clstyle_image *out,
                                             clstyle_error *err);

#endif
