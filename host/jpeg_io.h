/* JPEG input and output for float RGB images through libjpeg(-turbo)'s classic API (the
 * only module that includes jpeglib.h), and the EXIF orientation transform.
 *
 * Reading. Baseline, extended and progressive files (Huffman or arithmetic coded), in
 * YCbCr, RGB, grayscale, CMYK or YCCK, load into (3, h, w) float RGB in pixel units
 * 0..255, as clstyle_png_read does:
 *   - grayscale gives R = G = B.
 *   - CMYK and YCCK (libjpeg converts YCCK to CMYK) are taken as Adobe-inverted, as
 *     Photoshop writes them and libjpeg-turbo's own cmyk_to_rgb reads them (0 = full
 *     ink): R = C*K/255, G = M*K/255, B = Y*K/255, in double, not rounded. Adobe APP14
 *     transform flags are interpreted by libjpeg. Any other colour space is refused.
 *   - Pixels are taken as sRGB: an embedded ICC profile (APP2) is ignored, never applied.
 *   - The EXIF orientation (tag 0x0112 in IFD0 of an "Exif" APP1 segment) is applied, so
 *     the image is as it is displayed (orientation 6 turns a landscape-stored photo
 *     portrait). Malformed or missing EXIF counts as orientation 1, never as an error.
 *   - width*height is checked against the pixel cap right after the header is read,
 *     before any pixel buffer exists; more than CLSTYLE_JPEG_MAX_SCANS scans are refused
 *     (a hostile progressive file could otherwise take minutes).
 *   - libjpeg's warnings are errors (the decoder would otherwise return an image with
 *     grey or smeared blocks), with ONE exception: JWRN_EXTRANEOUS_DATA (junk bytes
 *     between markers, common in camera files; no pixel is affected). So a premature
 *     end of data (JWRN_JPEG_EOF, a missing EOI included) is "truncated JPEG", and a bad
 *     Huffman code, a wrong restart marker, an inconsistent progression, an unknown
 *     JFIF revision or Adobe transform code are "corrupt JPEG: <libjpeg's message>".
 * Any failure returns an error naming the file and the reason; no partial image is
 * ever returned, and libjpeg never prints anything.
 *
 * Writing. 8-bit RGB as a baseline JFIF file (YCbCr), optimised Huffman tables, no EXIF
 * or ICC (pixels are already oriented and taken as sRGB). Chroma is kept at full
 * resolution (4:4:4) at quality >= 90 and subsampled 4:2:0 (libjpeg's default) below.
 * The file is encoded in memory, then written atomically (temp file in the same folder,
 * fsync, rename): on failure the previous file is untouched. */
#ifndef CLSTYLE_JPEG_IO_H
#define CLSTYLE_JPEG_IO_H

#include <stddef.h>

#include "error.h"
#include "png_io.h" /* clstyle_image, CLSTYLE_PNG_DEFAULT_MAX_PIXELS */

#define CLSTYLE_JPEG_DEFAULT_QUALITY 92
#define CLSTYLE_JPEG_MAX_SCANS 500                 /* as djpeg -maxscan */
#define CLSTYLE_JPEG_MAX_FILE_BYTES ((size_t)1 << 30) /* 1 GiB: the file is read whole */

/* Reads path into *out (which must not own data; it is zeroed on failure).
 * max_pixels caps width*height (0 = CLSTYLE_PNG_DEFAULT_MAX_PIXELS).
 * Errors: CLSTYLE_ERR_NOINPUT (cannot open, not a regular file), CLSTYLE_ERR_DATA (not
 * a JPEG, corrupt, truncated, unsupported, over the pixel, scan or file-size cap),
 * CLSTYLE_ERR_IO (read error), CLSTYLE_ERR_INTERNAL (out of memory). */
clstyle_status clstyle_jpeg_read(const char *path, size_t max_pixels, clstyle_image *out,
                                 clstyle_error *err);

/* The same reader on the len bytes at buf (which need not outlive the call); name
 * (NULL = "<memory>") stands in for the path in error messages. Errors as above, less
 * CLSTYLE_ERR_NOINPUT and CLSTYLE_ERR_IO. Used by the fuzz harness. */
clstyle_status clstyle_jpeg_read_buffer(const void *buf, size_t len, const char *name,
                                        size_t max_pixels, clstyle_image *out,
                                        clstyle_error *err);

/* Writes img as an 8-bit RGB JPEG at quality 1..100. Samples are clamped to [0, 255]
 * (NaN -> 0) and rounded to nearest, ties away from zero, as clstyle_png_write does.
 * Errors: CLSTYLE_ERR_USAGE (quality, a side over libjpeg's 65500), CLSTYLE_ERR_INTERNAL
 * (invalid image, out of memory), CLSTYLE_ERR_CANTCREAT (temp file), CLSTYLE_ERR_IO
 * (write failure). */
clstyle_status clstyle_jpeg_write(const char *path, const clstyle_image *img, int quality,
                                  clstyle_error *err);

/* Transforms img in place from EXIF orientation 1..8 to as displayed (1: nothing;
 * 2 mirror left-right, 3 rotate 180, 4 mirror top-bottom, 5 transpose, 6 rotate 90
 * clockwise, 7 transverse, 8 rotate 90 counter-clockwise; 5..8 swap w and h).
 * Errors: CLSTYLE_ERR_USAGE (orientation outside 1..8), CLSTYLE_ERR_INTERNAL (out of
 * memory); img is unchanged on failure. */
clstyle_status clstyle_image_orient(clstyle_image *img, int orientation, clstyle_error *err);

#endif
