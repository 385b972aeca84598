/* JPEG reading and writing through libjpeg's classic API (setjmp error handling, memory
 * source, a memory destination of our own, warnings promoted to errors), the EXIF
 * orientation parser and transform. The only file in the library that includes
 * jpeglib.h. Conventions are documented in jpeg_io.h. */
#include "jpeg_io.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE and size_t */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jerror.h>
#include <jpeglib.h>

#include "fileio.h"

/* ---------------------------------------------------------------- libjpeg errors */

/* Our error manager: libjpeg hands &pub back as cinfo->err, so pub must come first. */
typedef struct jpeg_fail {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
    char msg[JMSG_LENGTH_MAX]; /* libjpeg's message for the failure */
    int code;                  /* its msg_code */
    int too_many_scans;        /* the progress monitor stopped the decode */
} jpeg_fail;

static void fail_jump(j_common_ptr c)
{
    jpeg_fail *f = (jpeg_fail *)c->err;
    f->code = c->err->msg_code;
    (*c->err->format_message)(c, f->msg);
    longjmp(f->jmp, 1);
}

static void on_jpeg_error(j_common_ptr c)
{
    fail_jump(c);
}

/* msg_level -1 is a warning: libjpeg carries on with made-up data, so it is fatal here,
 * except for junk between markers (see jpeg_io.h). Levels >= 0 are trace messages. */
static void on_jpeg_message(j_common_ptr c, int msg_level)
{
    if (msg_level >= 0 || c->err->msg_code == JWRN_EXTRANEOUS_DATA) return;
    fail_jump(c);
}

static void on_jpeg_output(j_common_ptr c)
{
    (void)c; /* never print; the message is formatted by fail_jump */
}

static void fail_init(jpeg_fail *f)
{
    jpeg_std_error(&f->pub);
    f->pub.error_exit = on_jpeg_error;
    f->pub.emit_message = on_jpeg_message;
    f->pub.output_message = on_jpeg_output;
}

static int mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

/* ---------------------------------------------------------------- orientation */

/* Where output pixel (x, y) of a w x h result comes from in the W x H source. */
static void orient_source(int orientation, int W, int H, int x, int y, int *sx, int *sy)
{
    switch (orientation) {
    case 2: *sx = W - 1 - x; *sy = y; break;
    case 3: *sx = W - 1 - x; *sy = H - 1 - y; break;
    case 4: *sx = x; *sy = H - 1 - y; break;
    case 5: *sx = y; *sy = x; break;
    case 6: *sx = y; *sy = H - 1 - x; break;
    case 7: *sx = W - 1 - y; *sy = H - 1 - x; break;
    case 8: *sx = W - 1 - y; *sy = x; break;
    default: *sx = x; *sy = y; break;
    }
}

clstyle_status clstyle_image_orient(clstyle_image *img, int orientation, clstyle_error *err)
{
    if (orientation < 1 || orientation > 8)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "invalid EXIF orientation %d (must be 1..8)",
                               orientation);
    if (orientation == 1) return CLSTYLE_OK;
    int W = img->w, H = img->h, swap = orientation >= 5;
    clstyle_image out;
    clstyle_status st = clstyle_image_alloc(&out, swap ? H : W, swap ? W : H, err);
    if (st != CLSTYLE_OK) return st;
    size_t plane = (size_t)W * (size_t)H;
    for (int y = 0; y < out.h; y++) {
        for (int x = 0; x < out.w; x++) {
            int sx, sy;
            orient_source(orientation, W, H, x, y, &sx, &sy);
            size_t from = (size_t)sy * (size_t)W + (size_t)sx;
            size_t to = (size_t)y * (size_t)out.w + (size_t)x;
            for (int c = 0; c < 3; c++)
                out.data[(size_t)c * plane + to] = img->data[(size_t)c * plane + from];
        }
    }
    clstyle_image_free(img);
    *img = out;
    return CLSTYLE_OK;
}

/* ---------------------------------------------------------------- EXIF */

#define EXIF_TAG_ORIENTATION 0x0112
#define TIFF_TYPE_SHORT 3

/* A TIFF structure inside an APP1 segment; every read is bounds-checked. */
typedef struct tiff_view {
    const unsigned char *p;
    size_t len;
    int big_endian;
} tiff_view;

static int tiff_u16(const tiff_view *t, size_t at, unsigned *v)
{
    if (at > t->len || t->len - at < 2) return 0;
    const unsigned char *q = t->p + at;
    *v = t->big_endian ? (unsigned)q[0] << 8 | q[1] : (unsigned)q[1] << 8 | q[0];
    return 1;
}

static int tiff_u32(const tiff_view *t, size_t at, uint32_t *v)
{
    unsigned a, b;
    if (!tiff_u16(t, at, &a) || !tiff_u16(t, at + 2, &b)) return 0;
    *v = t->big_endian ? (uint32_t)a << 16 | b : (uint32_t)b << 16 | a;
    return 1;
}

/* The orientation in one APP1 payload, or 1 when it is not EXIF or anything is off. */
static int exif_orientation(const unsigned char *p, size_t len)
{
    static const unsigned char id[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (len < sizeof id || memcmp(p, id, sizeof id) != 0) return 1;
    tiff_view t = {p + sizeof id, len - sizeof id, 0};
    if (t.len < 8) return 1;
    if (t.p[0] == 'M' && t.p[1] == 'M') t.big_endian = 1;
    else if (!(t.p[0] == 'I' && t.p[1] == 'I')) return 1;
    unsigned magic, count;
    uint32_t ifd;
    if (!tiff_u16(&t, 2, &magic) || magic != 42 || !tiff_u32(&t, 4, &ifd)) return 1;
    if (!tiff_u16(&t, ifd, &count)) return 1;
    /* the whole IFD must be inside the segment (at most 65535 * 12 bytes: no overflow) */
    if ((size_t)count * 12 > t.len - ifd - 2) return 1;
    for (unsigned i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        unsigned tag, type, value;
        uint32_t n;
        if (!tiff_u16(&t, e, &tag) || tag != EXIF_TAG_ORIENTATION) continue;
        if (!tiff_u16(&t, e + 2, &type) || !tiff_u32(&t, e + 4, &n) || !tiff_u16(&t, e + 8, &value))
            return 1;
        if (type != TIFF_TYPE_SHORT || n != 1 || value < 1 || value > 8) return 1;
        return (int)value;
    }
    return 1;
}

/* The first EXIF APP1 segment decides (later ones are ignored, as by cameras' viewers). */
static int markers_orientation(j_decompress_ptr c)
{
    static const unsigned char id[6] = {'E', 'x', 'i', 'f', 0, 0};
    for (jpeg_saved_marker_ptr m = c->marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length < sizeof id ||
            memcmp(m->data, id, sizeof id) != 0)
            continue;
        return exif_orientation(m->data, m->data_length);
    }
    return 1;
}

/* ---------------------------------------------------------------- reading */

typedef struct jpeg_reader {
    jpeg_fail fail;
    struct jpeg_progress_mgr progress;
    struct jpeg_decompress_struct cinfo;
    const char *path;         /* the file's path, or the name given to a memory buffer */
    size_t max_pixels;
    const unsigned char *buf; /* the whole file */
    size_t len;
    unsigned char *owned;     /* buf when we read it from a file */
    JSAMPLE *row;             /* (output_width, output_components) */
    clstyle_image img;
} jpeg_reader;

/* Fails past CLSTYLE_JPEG_MAX_SCANS scans; libjpeg calls it at least once per iMCU row
 * while it absorbs a multi-scan file, so a hostile one stops within a scan. */
static void on_progress(j_common_ptr c)
{
    jpeg_reader *r = c->client_data;
    if (r->cinfo.input_scan_number <= CLSTYLE_JPEG_MAX_SCANS) return;
    r->fail.too_many_scans = 1;
    longjmp(r->fail.jmp, 1);
}

static int code_in(int code, const int *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == code) return 1;
    return 0;
}

static clstyle_status read_report_libjpeg_error(const jpeg_reader *r, clstyle_error *err)
{
    static const int unsupported[] = {JERR_BAD_PRECISION, JERR_SOF_UNSUPPORTED, JERR_NOT_COMPILED};
    const jpeg_fail *f = &r->fail;
    if (f->too_many_scans)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: JPEG has more than %d scans, the limit",
                               r->path, CLSTYLE_JPEG_MAX_SCANS);
    if (f->code == JWRN_JPEG_EOF)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: truncated JPEG (%s)", r->path, f->msg);
    if (f->code == JERR_OUT_OF_MEMORY)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: out of memory decoding JPEG (%s)",
                               r->path, f->msg);
    if (f->code == JERR_IMAGE_TOO_BIG)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: image is too large: %s", r->path,
                               f->msg);
    if (code_in(f->code, unsupported, sizeof unsupported / sizeof unsupported[0]))
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: unsupported JPEG: %s", r->path, f->msg);
    /* most of libjpeg's data warnings start with this; said once is enough */
    static const char dup[] = "Corrupt JPEG data: ";
    const char *why = strncmp(f->msg, dup, sizeof dup - 1) == 0 ? f->msg + sizeof dup - 1 : f->msg;
    return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: corrupt JPEG: %s", r->path, why);
}

static clstyle_status read_check_signature(const jpeg_reader *r, clstyle_error *err)
{
    static const unsigned char png_sig[4] = {0x89, 'P', 'N', 'G'};
    if (r->len == 0)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: not a JPEG file (empty file)", r->path);
    if (r->len >= 4 && memcmp(r->buf, png_sig, 4) == 0)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: not a JPEG file (looks like a PNG)",
                               r->path);
    if (r->len < 3 || r->buf[0] != 0xFF || r->buf[1] != 0xD8 || r->buf[2] != 0xFF)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: not a JPEG file", r->path);
    return CLSTYLE_OK;
}

/* The whole file into r->owned; jpeg_mem_src then serves file and buffer alike. */
static clstyle_status read_slurp(jpeg_reader *r, clstyle_error *err)
{
    FILE *fp;
    clstyle_status st = clstyle_input_fopen(r->path, NULL, 0, &fp, err);
    if (st != CLSTYLE_OK) return st;
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0) {
        st = clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot stat %s: %s", r->path, strerror(errno));
        goto done;
    }
    if ((uintmax_t)sb.st_size > CLSTYLE_JPEG_MAX_FILE_BYTES) {
        st = clstyle_err_set(err, CLSTYLE_ERR_DATA,
                             "%s: JPEG file is %jd bytes, more than the limit of 1 GiB", r->path,
                             (intmax_t)sb.st_size);
        goto done;
    }
    size_t size = (size_t)sb.st_size;
    r->owned = malloc(size ? size : 1);
    if (!r->owned) {
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: out of memory (%zu bytes)", r->path,
                             size);
        goto done;
    }
    /* a file that shrank since fstat is simply shorter (and reported as truncated) */
    r->len = fread(r->owned, 1, size, fp);
    r->buf = r->owned;
    if (ferror(fp))
        st = clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot read %s: %s", r->path, strerror(errno));
done:
    fclose(fp);
    return st;
}

static clstyle_status read_check_header(jpeg_reader *r, clstyle_error *err)
{
    j_decompress_ptr c = &r->cinfo;
    size_t pixels;
    if (c->image_width < 1 || c->image_height < 1 || c->image_width > INT_MAX ||
        c->image_height > INT_MAX)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: invalid image size %ux%u", r->path,
                               (unsigned)c->image_width, (unsigned)c->image_height);
    if (!mul_size(c->image_width, c->image_height, &pixels) || pixels > r->max_pixels)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: image is %ux%u pixels, more than the limit of %zu pixels",
                               r->path, (unsigned)c->image_width, (unsigned)c->image_height,
                               r->max_pixels);
    switch (c->jpeg_color_space) {
    case JCS_GRAYSCALE: c->out_color_space = JCS_GRAYSCALE; break;
    case JCS_YCbCr:
    case JCS_RGB: c->out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: c->out_color_space = JCS_CMYK; break;
    default:
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: unsupported JPEG colour space (%d components, libjpeg code %d)",
                               r->path, c->num_components, (int)c->jpeg_color_space);
    }
    return CLSTYLE_OK;
}

static clstyle_status read_alloc(jpeg_reader *r, clstyle_error *err)
{
    j_decompress_ptr c = &r->cinfo;
    int want = c->out_color_space == JCS_GRAYSCALE ? 1 : c->out_color_space == JCS_RGB ? 3 : 4;
    if (c->output_components != want || c->output_width != c->image_width ||
        c->output_height != c->image_height)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "%s: unexpected JPEG output layout (%d components, %ux%u)", r->path,
                               c->output_components, (unsigned)c->output_width,
                               (unsigned)c->output_height);
    size_t rowbytes;
    if (!mul_size(c->output_width, (size_t)want, &rowbytes))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: image too large", r->path);
    r->row = malloc(rowbytes);
    if (!r->row)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: out of memory (%zu bytes)", r->path,
                               rowbytes);
    clstyle_status st =
        clstyle_image_alloc(&r->img, (int)c->output_width, (int)c->output_height, err);
    if (st != CLSTYLE_OK) return clstyle_err_wrap(err, "%s", r->path);
    return CLSTYLE_OK;
}

/* One decoded row to pixel units; CMYK is Adobe-inverted (see jpeg_io.h). */
static void read_convert_row(jpeg_reader *r, int y)
{
    int ch = r->cinfo.output_components;
    size_t plane = (size_t)r->img.w * (size_t)r->img.h;
    float *dst = r->img.data + (size_t)y * (size_t)r->img.w;
    for (int x = 0; x < r->img.w; x++) {
        const JSAMPLE *px = r->row + (size_t)x * (size_t)ch;
        double rgb[3];
        if (ch == 1) {
            rgb[0] = rgb[1] = rgb[2] = px[0];
        } else if (ch == 3) {
            for (int k = 0; k < 3; k++) rgb[k] = px[k];
        } else {
            for (int k = 0; k < 3; k++) rgb[k] = (double)px[k] * (double)px[3] / 255.0;
        }
        for (int k = 0; k < 3; k++) dst[(size_t)k * plane + (size_t)x] = (float)rgb[k];
    }
}

/* Every libjpeg call of a read. A libjpeg error longjmps back to the setjmp below; after
 * the jump only r is used, which is never modified here, so nothing needs volatile. */
static clstyle_status read_guarded(jpeg_reader *r, clstyle_error *err)
{
    j_decompress_ptr c = &r->cinfo;
    if (setjmp(r->fail.jmp)) return read_report_libjpeg_error(r, err);
    jpeg_create_decompress(c); /* keeps c->err and c->client_data */
    r->progress.progress_monitor = on_progress;
    c->progress = &r->progress;
    jpeg_mem_src(c, r->buf, (unsigned long)r->len);
    jpeg_save_markers(c, JPEG_APP0 + 1, 0xFFFF); /* EXIF; no other marker is kept */
    jpeg_read_header(c, TRUE);
    int orientation = markers_orientation(c); /* the markers go with jpeg_finish_decompress */
    clstyle_status st = read_check_header(r, err);
    if (st != CLSTYLE_OK) return st;
    jpeg_start_decompress(c);
    st = read_alloc(r, err);
    if (st != CLSTYLE_OK) return st;
    for (int y = 0; y < r->img.h; y++) {
        JSAMPROW rows[1] = {r->row};
        if (jpeg_read_scanlines(c, rows, 1) != 1) /* only with a suspending source */
            return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: libjpeg returned no row %d",
                                   r->path, y);
        read_convert_row(r, y);
    }
    jpeg_finish_decompress(c); /* reads up to EOI, so a missing one is "truncated" */
    st = clstyle_image_orient(&r->img, orientation, err);
    if (st != CLSTYLE_OK) return clstyle_err_wrap(err, "%s", r->path);
    return CLSTYLE_OK;
}

/* The common core of both entry points once the bytes are in r: checks the signature,
 * decodes into *out, and releases everything r holds. */
static clstyle_status read_decode(jpeg_reader *r, clstyle_status st, clstyle_image *out,
                                  clstyle_error *err)
{
    if (st == CLSTYLE_OK) st = read_check_signature(r, err);
    if (st == CLSTYLE_OK && r->len > ULONG_MAX)
        st = clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: JPEG data is too large", r->path);
    if (st != CLSTYLE_OK) goto done;
    fail_init(&r->fail);
    r->cinfo.err = &r->fail.pub;
    r->cinfo.client_data = r;
    st = read_guarded(r, err);
    if (st == CLSTYLE_OK) {
        *out = r->img;
        memset(&r->img, 0, sizeof r->img);
    }
done:
    jpeg_destroy_decompress(&r->cinfo); /* safe on a zeroed struct */
    free(r->row);
    free(r->owned);
    clstyle_image_free(&r->img);
    return st;
}

static void read_init(jpeg_reader *r, const char *path, size_t max_pixels, clstyle_image *out)
{
    memset(r, 0, sizeof *r);
    memset(out, 0, sizeof *out);
    r->path = path;
    r->max_pixels = max_pixels ? max_pixels : CLSTYLE_PNG_DEFAULT_MAX_PIXELS;
}

clstyle_status clstyle_jpeg_read(const char *path, size_t max_pixels, clstyle_image *out,
                                 clstyle_error *err)
{
    jpeg_reader r;
    read_init(&r, path, max_pixels, out);
    clstyle_status st = read_slurp(&r, err);
    return read_decode(&r, st, out, err);
}

clstyle_status clstyle_jpeg_read_buffer(const void *buf, size_t len, const char *name,
                                        size_t max_pixels, clstyle_image *out, clstyle_error *err)
{
    jpeg_reader r;
    read_init(&r, name ? name : "<memory>", max_pixels, out);
    r.buf = buf;
    r.len = buf ? len : 0;
    return read_decode(&r, CLSTYLE_OK, out, err);
}

/* ---------------------------------------------------------------- writing */

/* A growing memory destination of our own: unlike jpeg_mem_dest, the buffer stays ours
 * after an error (jpeg_mem_dest's replacement buffer would leak on a longjmp). */
typedef struct jpeg_sink {
    struct jpeg_destination_mgr pub; /* first: libjpeg hands &pub back as cinfo->dest */
    unsigned char *buf;
    size_t cap, used;
} jpeg_sink;

#define SINK_FIRST_BYTES ((size_t)64 * 1024)

static void sink_init(j_compress_ptr c)
{
    jpeg_sink *s = (jpeg_sink *)c->dest;
    s->buf = malloc(SINK_FIRST_BYTES);
    if (!s->buf) ERREXIT1(c, JERR_OUT_OF_MEMORY, 1);
    s->cap = SINK_FIRST_BYTES;
    s->pub.next_output_byte = s->buf;
    s->pub.free_in_buffer = s->cap;
}

/* Called when the buffer is full: double it and hand libjpeg the new half. */
static boolean sink_grow(j_compress_ptr c)
{
    jpeg_sink *s = (jpeg_sink *)c->dest;
    if (s->cap > SIZE_MAX / 2) ERREXIT1(c, JERR_OUT_OF_MEMORY, 2);
    unsigned char *grown = realloc(s->buf, s->cap * 2);
    if (!grown) ERREXIT1(c, JERR_OUT_OF_MEMORY, 3);
    s->buf = grown;
    s->pub.next_output_byte = grown + s->cap;
    s->pub.free_in_buffer = s->cap;
    s->cap *= 2;
    return TRUE;
}

static void sink_term(j_compress_ptr c)
{
    jpeg_sink *s = (jpeg_sink *)c->dest;
    s->used = s->cap - s->pub.free_in_buffer;
}

typedef struct jpeg_writer {
    jpeg_fail fail;
    jpeg_sink sink;
    struct jpeg_compress_struct cinfo;
    const char *path;
    const clstyle_image *img;
    int quality;
    JSAMPLE *row; /* (w, 3) */
} jpeg_writer;

/* Clamp to [0, 255] (NaN -> 0), round to nearest with ties away from zero. */
static JSAMPLE write_quantize(float v)
{
    double x = v;
    if (!(x > 0.0)) x = 0.0;
    if (x > 255.0) x = 255.0;
    return (JSAMPLE)round(x);
}

static void write_pack_row(jpeg_writer *w, int y)
{
    const clstyle_image *img = w->img;
    size_t plane = (size_t)img->w * (size_t)img->h;
    const float *src = img->data + (size_t)y * (size_t)img->w;
    JSAMPLE *dst = w->row;
    for (int x = 0; x < img->w; x++)
        for (int c = 0; c < 3; c++) *dst++ = write_quantize(src[(size_t)c * plane + (size_t)x]);
}

static clstyle_status write_report_libjpeg_error(const jpeg_writer *w, clstyle_error *err)
{
    if (w->fail.code == JERR_OUT_OF_MEMORY)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "cannot write %s: out of memory (%s)",
                               w->path, w->fail.msg);
    return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "cannot write %s: libjpeg: %s", w->path,
                           w->fail.msg);
}

/* 4:4:4 at high quality, where 4:2:0 would visibly smear saturated edges; libjpeg's
 * default 4:2:0 below, where the size matters more. */
static void write_set_params(jpeg_writer *w)
{
    j_compress_ptr c = &w->cinfo;
    c->image_width = (JDIMENSION)w->img->w;
    c->image_height = (JDIMENSION)w->img->h;
    c->input_components = 3;
    c->in_color_space = JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, w->quality, TRUE);
    c->optimize_coding = TRUE;
    if (w->quality >= 90) {
        c->comp_info[0].h_samp_factor = 1;
        c->comp_info[0].v_samp_factor = 1;
    }
}

/* Every libjpeg call of a write; the same setjmp discipline as read_guarded. */
static clstyle_status write_guarded(jpeg_writer *w, clstyle_error *err)
{
    j_compress_ptr c = &w->cinfo;
    if (setjmp(w->fail.jmp)) return write_report_libjpeg_error(w, err);
    jpeg_create_compress(c);
    w->sink.pub.init_destination = sink_init;
    w->sink.pub.empty_output_buffer = sink_grow;
    w->sink.pub.term_destination = sink_term;
    c->dest = &w->sink.pub;
    write_set_params(w);
    jpeg_start_compress(c, TRUE);
    for (int y = 0; y < w->img->h; y++) {
        JSAMPROW rows[1] = {w->row};
        write_pack_row(w, y);
        jpeg_write_scanlines(c, rows, 1);
    }
    jpeg_finish_compress(c);
    return CLSTYLE_OK;
}

static clstyle_status write_check_args(const char *path, const clstyle_image *img, int quality,
                                       clstyle_error *err)
{
    if (quality < 1 || quality > 100)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "cannot write %s: JPEG quality %d (must be 1..100)", path, quality);
    if (!img || !img->data || img->w < 1 || img->h < 1)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "cannot write %s: invalid image %dx%d",
                               path, img ? img->w : 0, img ? img->h : 0);
    if (img->w > JPEG_MAX_DIMENSION || img->h > JPEG_MAX_DIMENSION)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "cannot write %s: image is %dx%d, but JPEG sides are at most %ld "
                               "pixels (use a .png output)",
                               path, img->w, img->h, (long)JPEG_MAX_DIMENSION);
    return CLSTYLE_OK;
}

/* The encoded bytes, atomically: a failure leaves the previous file as it was. */
static clstyle_status write_file(const char *path, const jpeg_sink *s, clstyle_error *err)
{
    clstyle_atomic_file af;
    clstyle_status st = clstyle_atomic_open(&af, path, err);
    if (st != CLSTYLE_OK) return st;
    st = clstyle_atomic_write(&af, s->buf, s->used, err);
    if (st == CLSTYLE_OK) st = clstyle_atomic_commit(&af, err);
    if (st != CLSTYLE_OK) clstyle_atomic_abort(&af);
    return st;
}

clstyle_status clstyle_jpeg_write(const char *path, const clstyle_image *img, int quality,
                                  clstyle_error *err)
{
    jpeg_writer w;
    memset(&w, 0, sizeof w);
    clstyle_status st = write_check_args(path, img, quality, err);
    if (st != CLSTYLE_OK) goto done;
    w.path = path;
    w.img = img;
    w.quality = quality;
    w.row = malloc((size_t)img->w * 3);
    if (!w.row) {
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "cannot write %s: out of memory", path);
        goto done;
    }
    fail_init(&w.fail);
    w.cinfo.err = &w.fail.pub;
    st = write_guarded(&w, err);
    if (st == CLSTYLE_OK) st = write_file(path, &w.sink, err);
done:
    jpeg_destroy_compress(&w.cinfo);
    free(w.sink.buf);
    free(w.row);
    return st;
}
