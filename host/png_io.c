/* PNG reading and writing through libpng's classic API (setjmp error handling, custom
 * I/O callbacks, quiet warnings), and the clstyle_image allocator. The only file in the
 * library that includes png.h. Conventions are documented in png_io.h. */
#include "png_io.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

#define PNG_MAX_SIDE 0x7fffffffu /* the PNG specification's limit on width and height */

/* What libpng reported through our callbacks; it never prints anything itself. */
typedef struct png_msgs {
    char error[256];
    char warning[256]; /* the last warning, kept as context for a following error */
} png_msgs;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_msgs *m = png_get_error_ptr(png);
    snprintf(m->error, sizeof m->error, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    png_msgs *m = png_get_error_ptr(png);
    snprintf(m->warning, sizeof m->warning, "%s", msg);
}

static int mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

clstyle_status clstyle_image_alloc(clstyle_image *img, int w, int h, clstyle_error *err)
{
    memset(img, 0, sizeof *img);
    if (w < 1 || h < 1)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "invalid image size %dx%d", w, h);
    size_t bytes;
    if (!mul_size((size_t)w, (size_t)h, &bytes) || !mul_size(bytes, 3 * sizeof(float), &bytes))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "image size %dx%d is too large", w, h);
    img->data = calloc(1, bytes);
    if (!img->data)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "out of memory allocating a %dx%d image (%zu bytes)", w, h, bytes);
    img->w = w;
    img->h = h;
    return CLSTYLE_OK;
}

void clstyle_image_free(clstyle_image *img)
{
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

/* ---------------------------------------------------------------- reading */

typedef struct png_reader {
    png_msgs msgs;
    const char *path;    /* the file's path, or the name given to a memory buffer */
    size_t max_pixels;
    FILE *fp;            /* the source: a file, or (when NULL) buf[pos..len) */
    const unsigned char *buf;
    size_t len, pos;
    png_structp png;
    png_infop info;
    int read_failed; /* the read callback saw an I/O error (errno in read_errno) */
    int read_errno;
    int hit_eof;     /* the read callback ran out of file */
    int channels;    /* after transforms: 3 (RGB) or 4 (RGBA) */
    int depth;       /* after transforms: 8 or 16 */
    size_t rowbytes;
    unsigned char *rows; /* (nrows, rowbytes): one row, or every row when interlaced */
    clstyle_image img;
} png_reader;

static void read_cb(png_structp png, png_bytep data, size_t len)
{
    png_reader *r = png_get_io_ptr(png);
    if (!r->fp) {
        if (len <= r->len - r->pos) {
            memcpy(data, r->buf + r->pos, len);
            r->pos += len;
            return;
        }
        r->hit_eof = 1;
        png_error(png, "unexpected end of file");
    }
    if (fread(data, 1, len, r->fp) == len) return;
    if (ferror(r->fp)) {
        r->read_failed = 1;
        r->read_errno = errno;
        png_error(png, "read error");
    }
    r->hit_eof = 1;
    png_error(png, "unexpected end of file");
}

static clstyle_status read_report_libpng_error(const png_reader *r, clstyle_error *err)
{
    if (r->read_failed)
        return clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot read %s: %s", r->path,
                               strerror(r->read_errno));
    if (r->hit_eof)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: truncated PNG (unexpected end of file)",
                               r->path);
    if (strstr(r->msgs.warning, "user limit"))
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: image is too large: %s (the limit is %zu pixels)", r->path,
                               r->msgs.warning, r->max_pixels);
    if (r->msgs.warning[0])
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: corrupt PNG: %s (%s)", r->path,
                               r->msgs.error, r->msgs.warning);
    return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: corrupt PNG: %s", r->path, r->msgs.error);
}

#define PNG_SIG_BYTES 8

/* Checks the first n (at most PNG_SIG_BYTES) bytes of the source. */
static clstyle_status read_check_signature(const png_reader *r, const unsigned char *sig, size_t n,
                                           clstyle_error *err)
{
    if (n == 0)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: not a PNG file (empty file)", r->path);
    if (n >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: not a PNG file (looks like a JPEG)",
                               r->path);
    if (n < PNG_SIG_BYTES || png_sig_cmp(sig, 0, PNG_SIG_BYTES) != 0)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: not a PNG file", r->path);
    return CLSTYLE_OK;
}

static clstyle_status read_open(png_reader *r, clstyle_error *err)
{
    clstyle_status st = clstyle_input_fopen(r->path, NULL, 0, &r->fp, err);
    if (st) return st;
    unsigned char sig[PNG_SIG_BYTES];
    size_t n = fread(sig, 1, sizeof sig, r->fp);
    if (ferror(r->fp)) /* e.g. a directory */
        return clstyle_err_set(err, CLSTYLE_ERR_NOINPUT, "cannot read %s: %s", r->path,
                               strerror(errno));
    return read_check_signature(r, sig, n, err);
}

/* Ancillary chunks we never use are skipped unparsed: less work, and no compressed
 * text or profile is ever inflated. */
static void read_ignore_chunks(png_structp png)
{
    static const png_byte ignored[] = "iCCP\0iTXt\0tEXt\0zTXt\0sPLT\0eXIf\0hIST\0pCAL\0sCAL";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, ignored, (int)(sizeof ignored / 5));
}

static clstyle_status read_check_size(const png_reader *r, clstyle_error *err)
{
    png_uint_32 w = png_get_image_width(r->png, r->info);
    png_uint_32 h = png_get_image_height(r->png, r->info);
    size_t pixels;
    if (w < 1 || h < 1 || w > INT_MAX || h > INT_MAX)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: invalid image size %lux%lu", r->path,
                               (unsigned long)w, (unsigned long)h);
    if (!mul_size(w, h, &pixels) || pixels > r->max_pixels)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: image is %lux%lu pixels, more than the limit of %zu pixels",
                               r->path, (unsigned long)w, (unsigned long)h, r->max_pixels);
    return CLSTYLE_OK;
}

/* Everything becomes RGB or RGBA, 8 or 16 bits per sample. Returns the pass count. */
static int read_set_transforms(png_reader *r)
{
    int color = png_get_color_type(r->png, r->info);
    int depth = png_get_bit_depth(r->png, r->info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
    if (png_get_valid(r->png, r->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(r->png);
    if ((color & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(r->png);
    return png_set_interlace_handling(r->png);
}

static clstyle_status read_alloc(png_reader *r, int passes, clstyle_error *err)
{
    r->channels = png_get_channels(r->png, r->info);
    r->depth = png_get_bit_depth(r->png, r->info);
    r->rowbytes = png_get_rowbytes(r->png, r->info);
    int w = (int)png_get_image_width(r->png, r->info);
    int h = (int)png_get_image_height(r->png, r->info);
    size_t expect, total;
    int sane = (r->channels == 3 || r->channels == 4) && (r->depth == 8 || r->depth == 16);
    if (!sane || !mul_size((size_t)w, (size_t)r->channels * (size_t)(r->depth / 8), &expect) ||
        expect != r->rowbytes)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "%s: unexpected pixel layout after conversion (%d channels, %d bit)",
                               r->path, r->channels, r->depth);
    if (!mul_size(r->rowbytes, passes > 1 ? (size_t)h : 1, &total))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: image too large", r->path);
    r->rows = calloc(1, total);
    if (!r->rows)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: out of memory (%zu bytes)", r->path,
                               total);
    clstyle_status st = clstyle_image_alloc(&r->img, w, h, err);
    if (st != CLSTYLE_OK) return clstyle_err_wrap(err, "%s", r->path);
    return CLSTYLE_OK;
}

static unsigned read_sample(const unsigned char *px, int i, int wide)
{
    return wide ? ((unsigned)px[2 * i] << 8) | px[2 * i + 1] : px[i];
}

/* Samples to pixel units (16-bit: v/257), alpha composited onto white. */
static void read_convert_row(png_reader *r, const unsigned char *row, int y)
{
    int wide = r->depth == 16, ch = r->channels;
    double scale = wide ? 257.0 : 1.0, amax = wide ? 65535.0 : 255.0;
    size_t plane = (size_t)r->img.w * (size_t)r->img.h;
    float *dst = r->img.data + (size_t)y * (size_t)r->img.w;
    for (int x = 0; x < r->img.w; x++) {
        const unsigned char *px = row + (size_t)x * (size_t)ch * (wide ? 2 : 1);
        double a = ch == 4 ? read_sample(px, 3, wide) / amax : 1.0;
        for (int c = 0; c < 3; c++) {
            double v = read_sample(px, c, wide) / scale;
            dst[(size_t)c * plane + (size_t)x] = (float)(a * v + (1.0 - a) * 255.0);
        }
    }
}

/* Interlaced images need every row kept across the passes; a row is complete (and
 * converted) in the last pass, which is why both layouts give identical pixels. */
static void read_rows(png_reader *r, int passes)
{
    for (int p = 0; p < passes; p++) {
        for (int y = 0; y < r->img.h; y++) {
            unsigned char *row = r->rows + (passes > 1 ? (size_t)y * r->rowbytes : 0);
            png_read_row(r->png, row, NULL);
            if (p == passes - 1) read_convert_row(r, row, y);
        }
    }
}

/* Every libpng call of a read. A libpng error longjmps back to the setjmp below; after
 * the jump only r is used, which is never modified here, so nothing needs volatile. */
static clstyle_status read_guarded(png_reader *r, clstyle_error *err)
{
    if (setjmp(png_jmpbuf(r->png))) return read_report_libpng_error(r, err);
    size_t side = r->max_pixels < PNG_MAX_SIDE ? r->max_pixels : PNG_MAX_SIDE;
    png_set_read_fn(r->png, r, read_cb);
    png_set_sig_bytes(r->png, PNG_SIG_BYTES);
    png_set_user_limits(r->png, (png_uint_32)side, (png_uint_32)side);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* Fuzz builds only (as libpng's own OSS-Fuzz harness): a mutated byte almost always
     * breaks a CRC or the zlib checksum, which would stop every input at the first chunk. */
    png_set_crc_action(r->png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
#ifdef PNG_IGNORE_ADLER32
    png_set_option(r->png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
#endif
    read_ignore_chunks(r->png);
    png_read_info(r->png, r->info);
    clstyle_status st = read_check_size(r, err);
    if (st != CLSTYLE_OK) return st;
    int passes = read_set_transforms(r);
    png_read_update_info(r->png, r->info);
    st = read_alloc(r, passes, err);
    if (st != CLSTYLE_OK) return st;
    read_rows(r, passes);
    png_read_end(r->png, NULL);
    return CLSTYLE_OK;
}

/* The common core of both entry points, once the signature has been checked: decodes
 * the rest of the source into *out, and releases everything r holds. */
static clstyle_status read_decode(png_reader *r, clstyle_status st, clstyle_image *out,
                                  clstyle_error *err)
{
    if (st != CLSTYLE_OK) goto done;
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r->msgs, on_png_error, on_png_warning);
    r->info = r->png ? png_create_info_struct(r->png) : NULL;
    if (!r->info) {
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: cannot create a PNG reader", r->path);
        goto done;
    }
    st = read_guarded(r, err);
    if (st == CLSTYLE_OK) {
        *out = r->img;
        memset(&r->img, 0, sizeof r->img);
    }
done:
    png_destroy_read_struct(&r->png, &r->info, NULL);
    free(r->rows);
    r->rows = NULL;
    clstyle_image_free(&r->img);
    if (r->fp) fclose(r->fp);
    r->fp = NULL;
    return st;
}

clstyle_status clstyle_png_read(const char *path, size_t max_pixels, clstyle_image *out,
                                clstyle_error *err)
{
    png_reader r;
    memset(&r, 0, sizeof r);
    memset(out, 0, sizeof *out);
    r.path = path;
    r.max_pixels = max_pixels ? max_pixels : CLSTYLE_PNG_DEFAULT_MAX_PIXELS;
    clstyle_status st = read_open(&r, err);
    return read_decode(&r, st, out, err);
}

clstyle_status clstyle_png_read_buffer(const void *buf, size_t len, const char *name,
                                       size_t max_pixels, clstyle_image *out, clstyle_error *err)
{
    png_reader r;
    memset(&r, 0, sizeof r);
    memset(out, 0, sizeof *out);
    r.path = name ? name : "<memory>";
    r.max_pixels = max_pixels ? max_pixels : CLSTYLE_PNG_DEFAULT_MAX_PIXELS;
    r.buf = buf;
    r.len = buf ? len : 0;
    r.pos = r.len < PNG_SIG_BYTES ? r.len : PNG_SIG_BYTES;
    clstyle_status st = read_check_signature(&r, r.buf, r.pos, err);
    return read_decode(&r, st, out, err);
}

/* ---------------------------------------------------------------- writing */

typedef struct png_writer {
    png_msgs msgs;
    clstyle_atomic_file af;
    clstyle_error io_err; /* the failed write, reported as is */
    int io_failed;
    png_structp png;
    png_infop info;
    const clstyle_image *img;
    int depth;
    unsigned char *row; /* (w, 3) samples, big-endian when 16-bit */
} png_writer;

static void write_cb(png_structp png, png_bytep data, size_t len)
{
    png_writer *w = png_get_io_ptr(png);
    if (clstyle_atomic_write(&w->af, data, len, &w->io_err) == CLSTYLE_OK) return;
    w->io_failed = 1;
    png_error(png, "write failed");
}

static void flush_cb(png_structp png)
{
    (void)png; /* clstyle_atomic_commit flushes and fsyncs */
}

/* Clamp to [0, 255] (NaN -> 0), scale, round to nearest with ties away from zero. */
static unsigned write_quantize(float v, double scale)
{
    double x = v;
    if (!(x > 0.0)) x = 0.0;
    if (x > 255.0) x = 255.0;
    return (unsigned)round(x * scale);
}

static void write_pack_row(png_writer *w, int y)
{
    const clstyle_image *img = w->img;
    size_t plane = (size_t)img->w * (size_t)img->h;
    const float *src = img->data + (size_t)y * (size_t)img->w;
    int wide = w->depth == 16;
    double scale = wide ? 257.0 : 1.0;
    unsigned char *dst = w->row;
    for (int x = 0; x < img->w; x++) {
        for (int c = 0; c < 3; c++) {
            unsigned q = write_quantize(src[(size_t)c * plane + (size_t)x], scale);
            if (wide) *dst++ = (unsigned char)(q >> 8);
            *dst++ = (unsigned char)(q & 0xFF);
        }
    }
}

static clstyle_status write_report_libpng_error(const png_writer *w, clstyle_error *err)
{
    if (w->io_failed) return clstyle_err_set(err, CLSTYLE_ERR_IO, "%s", w->io_err.msg);
    return clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot write %s: %s", w->af.path, w->msgs.error);
}

/* Every libpng call of a write; the same setjmp discipline as read_guarded. */
static clstyle_status write_guarded(png_writer *w, clstyle_error *err)
{
    if (setjmp(png_jmpbuf(w->png))) return write_report_libpng_error(w, err);
    png_set_write_fn(w->png, w, write_cb, flush_cb);
    png_set_user_limits(w->png, PNG_MAX_SIDE, PNG_MAX_SIDE);
    png_set_IHDR(w->png, w->info, (png_uint_32)w->img->w, (png_uint_32)w->img->h, w->depth,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(w->png, w->info);
    for (int y = 0; y < w->img->h; y++) {
        write_pack_row(w, y);
        png_write_row(w->png, w->row);
    }
    png_write_end(w->png, NULL);
    return CLSTYLE_OK;
}

static clstyle_status write_check_args(const char *path, const clstyle_image *img, int bit_depth,
                                       size_t *rowbytes, clstyle_error *err)
{
    if (bit_depth != 8 && bit_depth != 16)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "cannot write %s: bit depth %d (must be 8 or 16)", path, bit_depth);
    if (!img || !img->data || img->w < 1 || img->h < 1)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "cannot write %s: invalid image %dx%d",
                               path, img ? img->w : 0, img ? img->h : 0);
    if (!mul_size((size_t)img->w, (size_t)(3 * bit_depth / 8), rowbytes))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "cannot write %s: image too wide", path);
    return CLSTYLE_OK;
}

clstyle_status clstyle_png_write(const char *path, const clstyle_image *img, int bit_depth,
                                 clstyle_error *err)
{
    png_writer w;
    memset(&w, 0, sizeof w);
    size_t rowbytes = 0;
    clstyle_status st = write_check_args(path, img, bit_depth, &rowbytes, err);
    if (st != CLSTYLE_OK) goto done;
    w.img = img;
    w.depth = bit_depth;
    w.row = malloc(rowbytes);
    if (!w.row) {
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "cannot write %s: out of memory", path);
        goto done;
    }
    st = clstyle_atomic_open(&w.af, path, err);
    if (st != CLSTYLE_OK) goto done;
    w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &w.msgs, on_png_error, on_png_warning);
    w.info = w.png ? png_create_info_struct(w.png) : NULL;
    if (!w.info) {
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: cannot create a PNG writer", path);
        goto done;
    }
    st = write_guarded(&w, err);
    if (st == CLSTYLE_OK) st = clstyle_atomic_commit(&w.af, err);
done:
    png_destroy_write_struct(&w.png, &w.info);
    if (st != CLSTYLE_OK) clstyle_atomic_abort(&w.af);
    free(w.row);
    return st;
}
