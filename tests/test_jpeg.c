/* JPEG input/output tests: files written here with libjpeg (baseline, progressive, gray,
 * CMYK, YCCK, with EXIF orientations) decode to the expected float RGB; malformed and
 * hostile files are refused quietly with a clear one-line message; writes round-trip
 * and are atomic; imgfile.c picks the right codec. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h> /* before jpeglib.h */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jpeglib.h>

#include "imgfile.h"
#include "jpeg_io.h"
#include "png_io.h"
#include "testutil.h"

static const char *g_dir;


/* ------------------------------------------------------------ file helpers */



static uint32_t g_lcg = 4242;
static unsigned lcg_next(void)
{
    g_lcg = g_lcg * 1664525u + 1013904223u;
    return g_lcg >> 8;
}

/* stderr into a file while libjpeg runs, so that any chatter is caught. */
static int g_saved_stderr = -1;
static char g_log[4096];

static void quiet_begin(void)
{
    fflush(stderr);
    g_saved_stderr = dup(2);
    int fd = open(g_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
}

/* 1 if anything was printed since quiet_begin. */
static int quiet_end(void)
{
    fflush(stderr);
    dup2(g_saved_stderr, 2);
    close(g_saved_stderr);
    struct stat sb;
    return stat(g_log, &sb) == 0 && sb.st_size > 0;
}

/* ------------------------------------------------------------ writing test JPEGs */

typedef struct blob {
    const unsigned char *p;
    size_t n;
} blob;

typedef struct jspec {
    int w, h, comps;          /* comps: 1, 2, 3 or 4 */
    J_COLOR_SPACE in_space;   /* JCS_GRAYSCALE, JCS_RGB, JCS_CMYK, JCS_UNKNOWN */
    J_COLOR_SPACE jpeg_space; /* JCS_UNKNOWN here = libjpeg's default for in_space */
    int quality, full_chroma, progressive;
    const jpeg_scan_info *scans; /* a custom progressive script */
    int nscans;
    blob app1[2];             /* APP1 segments written after the header */
    const unsigned char *samples; /* (h, w, comps) */
} jspec;

/* Test files come from libjpeg's own encoder; its default error handler exits, which
 * is what a broken test writer should do. */
static unsigned char *make_jpeg(const jspec *s, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long outlen = 0;
    jpeg_mem_dest(&c, &out, &outlen);
    c.image_width = (JDIMENSION)s->w;
    c.image_height = (JDIMENSION)s->h;
    c.input_components = s->comps;
    c.in_color_space = s->in_space;
    jpeg_set_defaults(&c);
    if (s->jpeg_space != JCS_UNKNOWN) jpeg_set_colorspace(&c, s->jpeg_space);
    jpeg_set_quality(&c, s->quality ? s->quality : 90, TRUE);
    if (s->full_chroma)
        for (int i = 0; i < c.num_components; i++)
            c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    if (s->progressive) jpeg_simple_progression(&c);
    if (s->scans) {
        c.scan_info = s->scans;
        c.num_scans = s->nscans;
    }
    jpeg_start_compress(&c, TRUE);
    for (int i = 0; i < 2; i++)
        if (s->app1[i].p)
            jpeg_write_marker(&c, JPEG_APP0 + 1, s->app1[i].p, (unsigned)s->app1[i].n);
    size_t stride = (size_t)s->w * (size_t)s->comps;
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(s->samples + c.next_scanline * stride);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *len = outlen;
    return out;
}

static void write_jpeg_file(const char *path, const jspec *s)
{
    size_t len;
    unsigned char *b = make_jpeg(s, &len);
    CHECK(tu_write_file(path, b, len) == 0, "cannot write %s", path);
    free(b);
}

/* A smooth pattern (JPEG reproduces it closely): (h, w, comps) samples. */
static unsigned char *smooth_samples(int w, int h, int comps)
{
    unsigned char *s = tu_xmalloc((size_t)w * h * comps);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < comps; c++) {
                double v = 128 + 90 * sin(0.07 * x * (c + 1) + 0.05 * y + c) * cos(0.04 * y);
                s[((size_t)y * w + x) * comps + c] = (unsigned char)lround(v);
            }
    return s;
}

/* The largest |decoded - expected| over every sample, expected from RGB(A..) samples. */
static double max_diff_rgb(const clstyle_image *img, const unsigned char *rgb)
{
    double worst = 0;
    size_t plane = (size_t)img->w * img->h;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) {
            double d = fabs(img->data[c * plane + i] - rgb[i * 3 + c]);
            if (d > worst) worst = d;
        }
    return worst;
}

static double max_diff_img(const clstyle_image *a, const clstyle_image *b)
{
    if (a->w != b->w || a->h != b->h) return INFINITY;
    double worst = 0;
    for (size_t i = 0; i < (size_t)a->w * a->h * 3; i++) {
        double d = fabs((double)a->data[i] - b->data[i]);
        if (d > worst) worst = d;
    }
    return worst;
}

/* Reads path quietly; a failed read is a failed CHECK and returns non-OK. */
static clstyle_status read_ok(const char *path, clstyle_image *img, const char *what)
{
    clstyle_error err = {0};
    quiet_begin();
    clstyle_status st = clstyle_jpeg_read(path, 0, img, &err);
    int printed = quiet_end();
    CHECK(st == CLSTYLE_OK, "%s: %s", what, err.msg);
    CHECK(!printed, "%s: something was printed to stderr", what);
    return st;
}

/* ------------------------------------------------------------ valid files */

static void test_baseline_progressive(void)
{
    const int w = 37, h = 23; /* not multiples of the 8/16-pixel MCU */
    unsigned char *rgb = smooth_samples(w, h, 3);
    jspec s = {.w = w, .h = h, .comps = 3, .in_space = JCS_RGB, .quality = 95,
               .full_chroma = 1, .samples = rgb};
    const char *pb = tu_path(g_dir, "base.jpg"), *pp = tu_path(g_dir, "prog.jpg");
    write_jpeg_file(pb, &s);
    s.progressive = 1;
    write_jpeg_file(pp, &s);
    clstyle_image a = {0}, b = {0};
    if (read_ok(pb, &a, "baseline") == CLSTYLE_OK) {
        CHECK(a.w == w && a.h == h, "baseline: size %dx%d", a.w, a.h);
        double d = max_diff_rgb(&a, rgb);
        CHECK(d <= 8.0, "baseline: decoded %.2f away from the pattern", d);
    }
    if (read_ok(pp, &b, "progressive") == CLSTYLE_OK && a.data) {
        double d = max_diff_img(&a, &b);
        CHECK(d <= 1.0, "progressive differs from baseline by %.2f", d);
    }
    clstyle_image_free(&a);
    clstyle_image_free(&b);

    /* libjpeg's default 4:2:0 at an ordinary quality still decodes near the pattern. */
    s.progressive = 0;
    s.full_chroma = 0;
    s.quality = 85;
    write_jpeg_file(pb, &s);
    if (read_ok(pb, &a, "4:2:0") == CLSTYLE_OK) {
        double d = max_diff_rgb(&a, rgb);
        CHECK(d <= 24.0, "4:2:0: decoded %.2f away from the pattern", d);
    }
    clstyle_image_free(&a);
    free(rgb);
}

static void test_gray(void)
{
    const int w = 19, h = 17;
    unsigned char *g = smooth_samples(w, h, 1);
    jspec s = {.w = w, .h = h, .comps = 1, .in_space = JCS_GRAYSCALE, .quality = 100,
               .samples = g};
    const char *p = tu_path(g_dir, "gray.jpg");
    write_jpeg_file(p, &s);
    clstyle_image img = {0};
    if (read_ok(p, &img, "gray") == CLSTYLE_OK) {
        size_t plane = (size_t)w * h;
        int same = 1;
        double worst = 0;
        for (size_t i = 0; i < plane; i++) {
            same &= img.data[i] == img.data[plane + i] && img.data[i] == img.data[2 * plane + i];
            worst = fmax(worst, fabs(img.data[i] - g[i]));
        }
        CHECK(same, "gray: R, G and B differ");
        CHECK(worst <= 2.0, "gray: decoded %.2f away from the samples", worst);
    }
    clstyle_image_free(&img);
    free(g);
}

/* CMYK samples as libjpeg itself decodes them (the exact input to our conversion). */
static unsigned char *libjpeg_cmyk(const unsigned char *file, size_t len)
{
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr jerr;
    d.err = jpeg_std_error(&jerr);
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, file, (unsigned long)len);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = JCS_CMYK;
    jpeg_start_decompress(&d);
    size_t stride = (size_t)d.output_width * 4;
    unsigned char *out = tu_xmalloc(stride * d.output_height);
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = out + d.output_scanline * stride;
        jpeg_read_scanlines(&d, &row, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    return out;
}

/* Adobe-inverted CMYK (and YCCK, which libjpeg turns back into CMYK): R = C*K/255. */
static void test_cmyk(J_COLOR_SPACE space, const char *what)
{
    const int w = 16, h = 16;
    unsigned char *cmyk = tu_xmalloc((size_t)w * h * 4);
    unsigned char rgb[16 * 16 * 3];
    static const unsigned char quads[4][4] = {
        {255, 255, 255, 255}, {200, 100, 50, 255}, {255, 128, 0, 128}, {40, 220, 160, 200}};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const unsigned char *q = quads[(y / 8) * 2 + x / 8]; /* flat 8x8 blocks */
            size_t i = (size_t)y * w + x;
            memcpy(cmyk + i * 4, q, 4);
            for (int c = 0; c < 3; c++) rgb[i * 3 + c] = (unsigned char)lround(q[c] * q[3] / 255.0);
        }
    jspec s = {.w = w, .h = h, .comps = 4, .in_space = JCS_CMYK, .jpeg_space = space,
               .quality = 100, .full_chroma = 1, .samples = cmyk};
    size_t len;
    unsigned char *file = make_jpeg(&s, &len);
    const char *p = tu_path(g_dir, "cmyk.jpg");
    tu_write_file(p, file, len);
    clstyle_image img = {0};
    if (read_ok(p, &img, what) == CLSTYLE_OK) {
        double d = max_diff_rgb(&img, rgb);
        CHECK(d <= 3.0, "%s: decoded %.2f away from C*K/255", what, d);
        unsigned char *dec = libjpeg_cmyk(file, len);
        size_t plane = (size_t)w * h;
        int exact = 1;
        for (size_t i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
                exact &= img.data[c * plane + i] ==
                         (float)(dec[i * 4 + c] * (double)dec[i * 4 + 3] / 255.0);
        CHECK(exact, "%s: not exactly C*K/255 of libjpeg's CMYK samples", what);
        free(dec);
    }
    clstyle_image_free(&img);
    free(file);
    free(cmyk);
}

/* ------------------------------------------------------------ orientation */

/* The test's own transforms, composed from three primitives (the library uses one
 * table), each into a fresh image. */
static clstyle_image op_copy(const clstyle_image *in, int transpose)
{
    clstyle_image out = {0};
    clstyle_error err = {0};
    clstyle_image_alloc(&out, transpose ? in->h : in->w, transpose ? in->w : in->h, &err);
    return out;
}

static clstyle_image op_apply(clstyle_image in, char op)
{
    clstyle_image out = op_copy(&in, op == 't');
    size_t plane = (size_t)in.w * in.h;
    for (int y = 0; y < out.h; y++)
        for (int x = 0; x < out.w; x++) {
            int sx = op == 'h' ? in.w - 1 - x : op == 't' ? y : x;
            int sy = op == 'v' ? in.h - 1 - y : op == 't' ? x : y;
            for (int c = 0; c < 3; c++)
                out.data[c * plane + (size_t)y * out.w + x] =
                    in.data[c * plane + (size_t)sy * in.w + sx];
        }
    clstyle_image_free(&in);
    return out;
}

/* Orientation o as primitives: h = mirror left-right, v = top-bottom, t = transpose. */
static clstyle_image expect_oriented(const clstyle_image *in, int o)
{
    static const char *const ops[9] = {"", "", "h", "hv", "v", "t", "th", "thv", "tv"};
    clstyle_image cur = op_copy(in, 0);
    memcpy(cur.data, in->data, sizeof(float) * 3 * (size_t)in->w * in->h);
    for (const char *op = ops[o]; *op; op++) cur = op_apply(cur, *op);
    return cur;
}

static void test_orient_helper(void)
{
    clstyle_image img = {0};
    clstyle_error err = {0};
    for (int o = 1; o <= 8; o++) {
        CHECK(clstyle_image_alloc(&img, 4, 3, &err) == CLSTYLE_OK, "%s", err.msg);
        for (int i = 0; i < 36; i++) img.data[i] = (float)i;
        clstyle_image want = expect_oriented(&img, o);
        CHECK(clstyle_image_orient(&img, o, &err) == CLSTYLE_OK, "orient %d: %s", o, err.msg);
        CHECK(img.w == want.w && img.h == want.h && max_diff_img(&img, &want) == 0.0,
              "orient %d: wrong pixels (%dx%d)", o, img.w, img.h);
        if (o == 6) /* rotate 90 clockwise: the stored bottom-left pixel is displayed top-left */
            CHECK(img.w == 3 && img.h == 4 && img.data[0] == 8.0f && img.data[2] == 0.0f,
                  "orient 6: top row %g %g %g", img.data[0], img.data[1], img.data[2]);
        if (o == 8) /* rotate 90 counter-clockwise: the stored top-right pixel goes top-left */
            CHECK(img.data[0] == 3.0f && img.data[1] == 7.0f, "orient 8: top row %g %g",
                  img.data[0], img.data[1]);
        clstyle_image_free(&want);
        clstyle_image_free(&img);
    }
    CHECK(clstyle_image_alloc(&img, 4, 3, &err) == CLSTYLE_OK, "%s", err.msg);
    float *before = img.data;
    CHECK(clstyle_image_orient(&img, 0, &err) == CLSTYLE_ERR_USAGE, "orientation 0 accepted");
    CHECK(clstyle_image_orient(&img, 9, &err) == CLSTYLE_ERR_USAGE, "orientation 9 accepted");
    CHECK(img.data == before && img.w == 4 && img.h == 3, "failed orient changed the image");
    clstyle_image_free(&img);
}

typedef struct exif_entry {
    unsigned tag, type;
    uint32_t count, value;
} exif_entry;

static void put16(unsigned char *p, unsigned v, int big)
{
    p[big ? 0 : 1] = (unsigned char)(v >> 8);
    p[big ? 1 : 0] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v, int big)
{
    put16(p + (big ? 0 : 2), v >> 16, big);
    put16(p + (big ? 2 : 0), v & 0xFFFF, big);
}

/* "Exif\0\0", a TIFF header and IFD0 at ifd (normally 8) holding n entries, its count
 * field saying count. SHORT values are left-justified in the value field, as TIFF says. */
static size_t build_exif(unsigned char *buf, int big, uint32_t ifd, unsigned count,
                         const exif_entry *e, int n)
{
    memcpy(buf, "Exif\0\0", 6);
    unsigned char *t = buf + 6;
    memcpy(t, big ? "MM" : "II", 2);
    put16(t + 2, 42, big);
    put32(t + 4, ifd, big);
    size_t at = ifd < 64 ? ifd : 8;
    put16(t + at, count, big);
    for (int i = 0; i < n; i++) {
        unsigned char *q = t + at + 2 + 12 * (size_t)i;
        put16(q, e[i].tag, big);
        put16(q + 2, e[i].type, big);
        put32(q + 4, e[i].count, big);
        if (e[i].type == 3) {
            put16(q + 8, e[i].value, big);
            put16(q + 10, 0, big);
        } else {
            put32(q + 8, e[i].value, big);
        }
    }
    put32(t + at + 2 + 12 * (size_t)n, 0, big); /* no next IFD */
    return 6 + at + 2 + 12 * (size_t)n + 4;
}

#define OW 32 /* the orientation image: 4 x 3 flat 8x8 blocks of distinct colours */
#define OH 24

static unsigned char g_blocks[OW * OH * 3];

static void fill_blocks(clstyle_image *ref)
{
    clstyle_error err = {0};
    clstyle_image_alloc(ref, OW, OH, &err);
    for (int y = 0; y < OH; y++)
        for (int x = 0; x < OW; x++) {
            int b = (y / 8) * 4 + x / 8;
            for (int c = 0; c < 3; c++) {
                unsigned char v = (unsigned char)((b * (37 + 61 * c) + 40 * c + 10) % 230 + 10);
                g_blocks[((size_t)y * OW + x) * 3 + c] = v;
                ref->data[(size_t)c * OW * OH + (size_t)y * OW + x] = v;
            }
        }
}

/* Decodes a block image carrying the given APP1 segments (n 0..2). */
static clstyle_status read_with_app1(blob a, blob b, clstyle_image *img, const char *what)
{
    jspec s = {.w = OW, .h = OH, .comps = 3, .in_space = JCS_RGB, .quality = 100,
               .full_chroma = 1, .samples = g_blocks, .app1 = {a, b}};
    const char *p = tu_path(g_dir, "exif.jpg");
    write_jpeg_file(p, &s);
    return read_ok(p, img, what);
}

static void test_exif_orientations(void)
{
    clstyle_image ref = {0};
    fill_blocks(&ref);
    exif_entry e[3] = {{0x010F, 2, 6, 0x80}, {0x0112, 3, 1, 1}, {0x0131, 2, 4, 0x90}};
    for (int big = 0; big < 2; big++)
        for (int o = 1; o <= 8; o++) {
            unsigned char seg[256];
            e[1].value = (unsigned)o;
            blob a = {seg, build_exif(seg, big, 8, 3, e, 3)};
            char what[64];
            snprintf(what, sizeof what, "EXIF orientation %d (%s)", o, big ? "MM" : "II");
            clstyle_image img = {0};
            if (read_with_app1(a, (blob){0}, &img, what) != CLSTYLE_OK) continue;
            clstyle_image want = expect_oriented(&ref, o);
            double d = max_diff_img(&img, &want);
            CHECK(d <= 3.0, "%s: %dx%d, %.2f away from the expected %dx%d", what, img.w, img.h, d,
                  want.w, want.h);
            if (o == 6) CHECK(img.w == OH && img.h == OW, "orientation 6 is not portrait");
            clstyle_image_free(&want);
            clstyle_image_free(&img);
        }

    /* Only an "Exif" APP1 counts, wherever it comes (XMP first here). */
    static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>";
    unsigned char seg[256];
    e[1].value = 6;
    blob exif6 = {seg, build_exif(seg, 0, 8, 3, e, 3)};
    clstyle_image img = {0};
    if (read_with_app1((blob){(const unsigned char *)xmp, sizeof xmp}, exif6, &img,
                       "XMP then EXIF") == CLSTYLE_OK)
        CHECK(img.w == OH && img.h == OW, "XMP then EXIF: orientation 6 not applied");
    clstyle_image_free(&img);
    clstyle_image_free(&ref);
}

/* Hostile EXIF never fails a read and never rotates. */
static void test_exif_malformed(void)
{
    clstyle_image ref = {0};
    fill_blocks(&ref);
    exif_entry six[2] = {{0x010F, 2, 6, 0x80}, {0x0112, 3, 1, 6}};
    unsigned char seg[512] = {0};
    struct { const char *what; size_t len; } cases[32];
    unsigned char bufs[32][512];
    int n = 0;
/* len_ first: it builds the segment that is then copied */
#define ADD(what_, len_)                                                                   \
    do {                                                                                   \
        cases[n].len = (len_);                                                             \
        cases[n].what = (what_);                                                           \
        memcpy(bufs[n], seg, sizeof seg);                                                  \
        n++;                                                                               \
    } while (0)
    ADD("IFD offset past the end", build_exif(seg, 0, 0x1000, 2, six, 2));
    ADD("IFD offset 0xFFFFFFFF", build_exif(seg, 1, 0xFFFFFFFFu, 2, six, 2));
    size_t l = build_exif(seg, 0, 8, 0, six, 0); /* 14 TIFF bytes */
    put32(seg + 6 + 4, 13, 0);
    ADD("IFD count at the last byte", l);
    ADD("entry count 65535", build_exif(seg, 0, 8, 0xFFFF, six, 2));
    ADD("truncated IFD", build_exif(seg, 0, 8, 2, six, 2) - 4 - 7);
    ADD("segment ends inside the header", 6 + 5);
    ADD("Exif id only", 6);
    exif_entry bad[2] = {six[0], six[1]};
    bad[1].type = 4; /* LONG */
    ADD("orientation as LONG", build_exif(seg, 0, 8, 2, bad, 2));
    bad[1] = six[1];
    bad[1].count = 2;
    ADD("orientation count 2", build_exif(seg, 1, 8, 2, bad, 2));
    bad[1].count = 0xFFFFFFFFu;
    ADD("orientation count huge", build_exif(seg, 0, 8, 2, bad, 2));
    bad[1] = six[1];
    bad[1].value = 0;
    ADD("orientation 0", build_exif(seg, 0, 8, 2, bad, 2));
    bad[1].value = 9;
    ADD("orientation 9", build_exif(seg, 1, 8, 2, bad, 2));
    bad[1].value = 0x0106;
    ADD("orientation 262", build_exif(seg, 0, 8, 2, bad, 2));
    l = build_exif(seg, 0, 8, 2, six, 2);
    seg[6 + 2] = 43;
    ADD("TIFF magic 43", l);
    l = build_exif(seg, 0, 8, 2, six, 2);
    memcpy(seg + 6, "IM", 2);
    ADD("byte order IM", l);
    l = build_exif(seg, 1, 8, 2, six, 2);
    memcpy(seg + 6, "II", 2); /* MM entries read little-endian: no tag 0x0112 anywhere */
    ADD("byte order mismatch", l);
    l = build_exif(seg, 0, 8, 2, six, 2);
    seg[5] = 'X';
    ADD("not Exif\\0\\0", l);
    ADD("no orientation tag", build_exif(seg, 0, 8, 1, six, 1));
    ADD("empty IFD", build_exif(seg, 0, 8, 0, six, 0));
#undef ADD
    for (int i = 0; i < n; i++) {
        clstyle_image img = {0};
        blob a = {bufs[i], cases[i].len};
        if (read_with_app1(a, (blob){0}, &img, cases[i].what) != CLSTYLE_OK) continue;
        double d = max_diff_img(&img, &ref);
        CHECK(img.w == OW && img.h == OH && d <= 3.0, "%s: %dx%d, %.2f from unrotated",
              cases[i].what, img.w, img.h, d);
        clstyle_image_free(&img);
    }
    clstyle_image_free(&ref);
}

/* ------------------------------------------------------------ refusals */

static void expect_refused(const char *path, size_t cap, clstyle_status want, const char *needle,
                           const char *what)
{
    clstyle_image img = {5, 5, (float *)&img};
    clstyle_error err = {0};
    quiet_begin();
    clstyle_status st = clstyle_jpeg_read(path, cap, &img, &err);
    int printed = quiet_end();
    CHECK(st == want, "%s: status %d, expected %d (%s)", what, st, want, err.msg);
    CHECK(err.status == st, "%s: err.status %d, returned %d", what, err.status, st);
    CHECK(img.data == NULL && img.w == 0 && img.h == 0, "%s: output not cleared", what);
    CHECK(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", what, err.msg);
    CHECK(!needle || strstr(err.msg, needle), "%s: message lacks '%s': %s", what, needle, err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "%s: message is not one line", what);
    CHECK(!printed, "%s: something was printed to stderr", what);
    if (st == CLSTYLE_OK) clstyle_image_free(&img);
}

static unsigned char *valid_jpeg(int w, int h, int progressive, size_t *len)
{
    unsigned char *rgb = smooth_samples(w, h, 3);
    jspec s = {.w = w, .h = h, .comps = 3, .in_space = JCS_RGB, .quality = 90,
               .progressive = progressive, .samples = rgb};
    unsigned char *b = make_jpeg(&s, len);
    free(rgb);
    return b;
}

/* Offset of the first marker FF code before the scan data, or 0. */
static size_t find_marker(const unsigned char *b, size_t len, unsigned code)
{
    for (size_t at = 2; at + 4 <= len && b[at] == 0xFF;) {
        if (b[at + 1] == code) return at;
        if (b[at + 1] == 0xDA) return 0;
        at += 2 + ((size_t)b[at + 2] << 8 | b[at + 3]);
    }
    return 0;
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void test_pixel_cap(void)
{
    size_t len;
    unsigned char *b = valid_jpeg(32, 24, 0, &len);
    size_t sof = find_marker(b, len, 0xC0);
    CHECK(sof > 0, "no SOF0 in the test file");
    const char *p = tu_path(g_dir, "bomb.jpg");
    /* 60000 x 60000 declared, a few hundred bytes of data: refused from the header */
    b[sof + 5] = 0xEA, b[sof + 6] = 0x60, b[sof + 7] = 0xEA, b[sof + 8] = 0x60;
    tu_write_file(p, b, len);
    double t0 = seconds_now();
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "60000x60000", "decompression bomb");
    CHECK(seconds_now() - t0 < 1.0, "the bomb took %.2f s", seconds_now() - t0);

    /* under the cap, but the data runs out at once: a quick "truncated" */
    b[sof + 5] = 0x07, b[sof + 6] = 0xD0, b[sof + 7] = 0x07, b[sof + 8] = 0xD0; /* 2000 x 2000 */
    tu_write_file(p, b, len);
    t0 = seconds_now();
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "premature end", "2000x2000 header on 32x24 data");
    CHECK(seconds_now() - t0 < 2.0, "the short file took %.2f s", seconds_now() - t0);
    free(b);

    b = valid_jpeg(32, 24, 0, &len);
    p = tu_path(g_dir, "small.jpg");
    tu_write_file(p, b, len);
    free(b);
    expect_refused(p, 100, CLSTYLE_ERR_DATA, "limit of 100 pixels", "32x24 under a cap of 100");
    clstyle_image img = {0};
    clstyle_error err = {0};
    CHECK(clstyle_jpeg_read(p, 768, &img, &err) == CLSTYLE_OK, "32x24 under a cap of 768: %s",
          err.msg);
    clstyle_image_free(&img);
}

/* A legitimate progressive script of one gray component: every coefficient on its own,
 * at successive approximation levels al_top..0, i.e. 64 * (al_top + 1) scans. */
static jpeg_scan_info *many_scans(int al_top, int *n)
{
    jpeg_scan_info *s = tu_xmalloc(sizeof *s * 64 * (size_t)(al_top + 1));
    *n = 0;
    for (int al = al_top; al >= 0; al--)
        for (int k = 0; k < 64; k++) {
            jpeg_scan_info *q = &s[(*n)++];
            memset(q, 0, sizeof *q);
            q->comps_in_scan = 1;
            q->Ss = k;
            q->Se = k;
            q->Ah = al == al_top ? 0 : al + 1;
            q->Al = al;
        }
    return s;
}

static void test_scan_cap(void)
{
    unsigned char *g = smooth_samples(16, 16, 1);
    jspec s = {.w = 16, .h = 16, .comps = 1, .in_space = JCS_GRAYSCALE, .quality = 90,
               .samples = g};
    const char *p = tu_path(g_dir, "scans.jpg");
    s.scans = many_scans(6, &s.nscans); /* 448 scans: allowed */
    write_jpeg_file(p, &s);
    clstyle_image img = {0};
    if (read_ok(p, &img, "448 scans") == CLSTYLE_OK)
        CHECK(img.w == 16 && img.h == 16, "448 scans: size %dx%d", img.w, img.h);
    clstyle_image_free(&img);
    free((void *)s.scans);
    s.scans = many_scans(10, &s.nscans); /* 704 */
    write_jpeg_file(p, &s);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "more than 500 scans", "704 scans");
    free((void *)s.scans);
    free(g);
}

static void test_malformed(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/does-not-exist.jpg", g_dir);
    expect_refused(path, 0, CLSTYLE_ERR_NOINPUT, strerror(ENOENT), "missing file");
    expect_refused(g_dir, 0, CLSTYLE_ERR_NOINPUT, "folder", "a folder");

    const char *p = tu_path(g_dir, "empty.jpg");
    tu_write_file(p, "", 0);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "not a JPEG file", "empty file");
    unsigned char junk[1000];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)lcg_next();
    junk[0] = 0x12;
    p = tu_path(g_dir, "random.jpg");
    tu_write_file(p, junk, sizeof junk);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "not a JPEG file", "random bytes");
    p = tu_path(g_dir, "photo.jpg");
    tu_write_file(p, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "looks like a PNG", "PNG bytes");

    /* Over the 1 GiB file cap: refused from its size alone (a sparse file, never read). */
    p = tu_path(g_dir, "huge.jpg");
    FILE *f = fopen(p, "wb");
    int sparse = f && fwrite("\xFF\xD8\xFF", 1, 3, f) == 3 &&
                 ftruncate(fileno(f), (off_t)CLSTYLE_JPEG_MAX_FILE_BYTES + 1) == 0;
    if (f) fclose(f);
    if (sparse) expect_refused(p, 0, CLSTYLE_ERR_DATA, "limit of 1 GiB", "a file over 1 GiB");
    unlink(p);

    size_t len;
    unsigned char *good = valid_jpeg(40, 30, 0, &len);
    p = tu_path(g_dir, "cut.jpg");
    const size_t cuts[] = {2, 3, 4, 10, 21, 100, 300, len / 2, len - 10, len - 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "truncated to %zu of %zu bytes", cuts[i], len);
        tu_write_file(p, good, cuts[i]);
        expect_refused(p, 0, CLSTYLE_ERR_DATA, cuts[i] < 3 ? "not a JPEG" : "truncated", what);
    }
    size_t plen;
    unsigned char *prog = valid_jpeg(40, 30, 1, &plen);
    for (size_t cut = 50; cut < plen; cut += plen / 7) {
        char what[96];
        snprintf(what, sizeof what, "progressive truncated to %zu of %zu bytes", cut, plen);
        tu_write_file(p, prog, cut);
        expect_refused(p, 0, CLSTYLE_ERR_DATA, "truncated", what);
    }
    free(prog);

    unsigned char *bad = malloc(len);
    size_t sof = find_marker(good, len, 0xC0);
    memcpy(bad, good, len);
    bad[sof + 4] = 12; /* 12-bit precision */
    p = tu_path(g_dir, "twelve.jpg");
    tu_write_file(p, bad, len);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "unsupported JPEG", "12-bit precision");
    memcpy(bad, good, len);
    bad[sof + 1] = 0xC3; /* lossless */
    tu_write_file(p, bad, len);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "unsupported JPEG", "lossless SOF3");
    memcpy(bad, good, len);
    bad[sof + 12] = 3; /* the first component's quantisation table: never defined */
    tu_write_file(p, bad, len);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "corrupt JPEG", "undefined quantisation table");
    memcpy(bad, good, len);
    bad[sof + 9] = 0; /* no components */
    tu_write_file(p, bad, len);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "corrupt JPEG", "zero components");

    /* Random damage anywhere after SOI: refused with a clean message, or decoded into
     * an in-range image; never a crash or a print (ASan builds catch the rest). */
    quiet_begin();
    int accepted = 0, refused = 0, broken = 0;
    for (int trial = 0; trial < 300; trial++) {
        memcpy(bad, good, len);
        int flips = 1 + (int)(lcg_next() % 4);
        for (int k = 0; k < flips; k++)
            bad[2 + lcg_next() % (len - 2)] ^= (unsigned char)(1 + lcg_next() % 255);
        clstyle_image img = {5, 5, (float *)&img};
        clstyle_error err = {0};
        clstyle_status st = clstyle_jpeg_read_buffer(bad, len, "bad.jpg", 1 << 20, &img, &err);
        if (st == CLSTYLE_OK) {
            accepted++;
            for (size_t i = 0; i < (size_t)img.w * img.h * 3; i++)
                broken += !(img.data[i] >= 0.0f && img.data[i] <= 255.0f);
            clstyle_image_free(&img);
        } else {
            refused++;
            broken += st != CLSTYLE_ERR_DATA || img.data != NULL ||
                      strncmp(err.msg, "bad.jpg: ", 9) != 0 || strchr(err.msg, '\n') != NULL;
        }
    }
    int printed = quiet_end();
    CHECK(broken == 0, "random damage: %d contract violations (%d accepted, %d refused)", broken,
          accepted, refused);
    CHECK(refused > 0, "random damage: nothing refused");
    CHECK(!printed, "random damage: something was printed");
    free(bad);
    free(good);

    unsigned char two[16 * 8 * 2];
    for (size_t i = 0; i < sizeof two; i++) two[i] = (unsigned char)lcg_next();
    jspec s = {.w = 16, .h = 8, .comps = 2, .in_space = JCS_UNKNOWN, .samples = two};
    p = tu_path(g_dir, "two.jpg");
    write_jpeg_file(p, &s);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "colour space", "two components");
}

/* JWRN_EXTRANEOUS_DATA is the one tolerated warning: junk bytes before a marker. */
static void test_extraneous_data(void)
{
    size_t len;
    unsigned char *good = valid_jpeg(24, 16, 0, &len);
    size_t dqt = find_marker(good, len, 0xDB);
    CHECK(dqt > 0, "no DQT in the test file");
    unsigned char *b = malloc(len + 3);
    memcpy(b, good, dqt);
    memcpy(b + dqt, "\x12\x34\x56", 3); /* junk between two markers */
    memcpy(b + dqt + 3, good + dqt, len - dqt);
    const char *p = tu_path(g_dir, "junk.jpg");
    tu_write_file(p, b, len + 3);
    clstyle_image a = {0}, c = {0};
    clstyle_error err = {0};
    if (read_ok(p, &a, "junk before DQT") == CLSTYLE_OK &&
        clstyle_jpeg_read_buffer(good, len, "good.jpg", 0, &c, &err) == CLSTYLE_OK)
        CHECK(max_diff_img(&a, &c) == 0.0, "junk before DQT changed the pixels");
    clstyle_image_free(&a);
    clstyle_image_free(&c);
    free(b);
    free(good);
}

static void test_read_buffer(void)
{
    size_t len;
    unsigned char *good = valid_jpeg(21, 13, 1, &len);
    const char *p = tu_path(g_dir, "buffer.jpg");
    tu_write_file(p, good, len);
    clstyle_image a = {0}, b = {0};
    clstyle_error err = {0};
    CHECK(clstyle_jpeg_read(p, 0, &a, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(clstyle_jpeg_read_buffer(good, len, "mem.jpg", 0, &b, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(a.data && b.data && max_diff_img(&a, &b) == 0.0, "buffer and file readers disagree");
    clstyle_image_free(&a);
    clstyle_image_free(&b);
    clstyle_image img = {5, 5, (float *)&img};
    clstyle_err_clear(&err);
    CHECK(clstyle_jpeg_read_buffer(good, len, NULL, 20, &img, &err) == CLSTYLE_ERR_DATA &&
              strstr(err.msg, "<memory>") && strstr(err.msg, "limit") && img.data == NULL,
          "pixel cap on a buffer: %s", err.msg);
    CHECK(clstyle_jpeg_read_buffer(NULL, 0, "mem.jpg", 0, &img, &err) == CLSTYLE_ERR_DATA &&
              strstr(err.msg, "mem.jpg: not a JPEG file"),
          "NULL buffer: %s", err.msg);
    free(good);
}

/* ------------------------------------------------------------ writing */

/* The chroma sampling of a JPEG file's first component (h << 4 | v), via libjpeg. */
static int file_sampling(const char *path, int *is_jfif, int *has_app1)
{
    size_t len;
    unsigned char *b = tu_slurp(path, &len);
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr jerr;
    d.err = jpeg_std_error(&jerr);
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, b, (unsigned long)len);
    jpeg_save_markers(&d, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&d, TRUE);
    int samp = d.comp_info[0].h_samp_factor << 4 | d.comp_info[0].v_samp_factor;
    *is_jfif = d.saw_JFIF_marker && d.jpeg_color_space == JCS_YCbCr && d.num_components == 3;
    *has_app1 = d.marker_list != NULL;
    jpeg_destroy_decompress(&d);
    free(b);
    return samp;
}

static void test_write_roundtrip(void)
{
    const int w = 45, h = 29;
    unsigned char *rgb = smooth_samples(w, h, 3);
    clstyle_image img = {0}, back = {0};
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&img, w, h, &err) == CLSTYLE_OK, "%s", err.msg);
    size_t plane = (size_t)w * h;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) img.data[c * plane + i] = rgb[i * 3 + c];
    const char *p = tu_path(g_dir, "rt.jpg");
    /* 4:4:4 (0x11) at quality >= 90, 4:2:0 (0x22) below */
    static const struct { int q, samp; double tol; } qs[] = {
        {100, 0x11, 3}, {92, 0x11, 8}, {90, 0x11, 10}, {89, 0x22, 24}, {10, 0x22, 80}};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        CHECK(clstyle_jpeg_write(p, &img, qs[k].q, &err) == CLSTYLE_OK, "q%d: %s", qs[k].q,
              err.msg);
        int jfif = 0, app1 = 1;
        CHECK(file_sampling(p, &jfif, &app1) == qs[k].samp, "q%d: wrong chroma sampling", qs[k].q);
        CHECK(jfif && !app1, "q%d: not a plain JFIF YCbCr file", qs[k].q);
        if (read_ok(p, &back, "round trip") == CLSTYLE_OK) {
            double d = max_diff_rgb(&back, rgb);
            CHECK(d <= qs[k].tol, "q%d: round trip error %.2f", qs[k].q, d);
        }
        clstyle_image_free(&back);
    }
    CHECK(tu_count_tmp_files(g_dir) == 0, "temp files left behind");
    clstyle_image_free(&img);
    free(rgb);

    /* Clamping and rounding as the PNG writer's, on flat images (exact at q100, 4:4:4). */
    static const float in[] = {300.0f, -7.0f, NAN, 127.5f, 127.4999f, 0.5f, 254.5f};
    static const float want[] = {255, 0, 0, 128, 127, 1, 255};
    for (size_t k = 0; k < sizeof in / sizeof in[0]; k++) {
        CHECK(clstyle_image_alloc(&img, 8, 8, &err) == CLSTYLE_OK, "%s", err.msg);
        for (size_t i = 0; i < 8 * 8 * 3; i++) img.data[i] = in[k];
        CHECK(clstyle_jpeg_write(p, &img, 100, &err) == CLSTYLE_OK, "%s", err.msg);
        if (read_ok(p, &back, "quantize") == CLSTYLE_OK)
            CHECK(back.data[0] == want[k] && back.data[100] == want[k] && back.data[191] == want[k],
                  "quantize %f -> %f, expected %f", in[k], back.data[0], want[k]);
        clstyle_image_free(&back);
        clstyle_image_free(&img);
    }
}

/* A failing write must leave the previous file byte-identical and no temp file. */
static void expect_write_fails(const char *path, const clstyle_image *img, int quality,
                               clstyle_status want, const unsigned char *old, size_t old_len,
                               const char *what)
{
    clstyle_error err = {0};
    clstyle_status st = clstyle_jpeg_write(path, img, quality, &err);
    tu_check_write_refused(st, &err, want, path, old, old_len, g_dir, what);
}

static void test_write_atomic(void)
{
    clstyle_image img = {0};
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&img, 8, 8, &err) == CLSTYLE_OK, "%s", err.msg);
    for (size_t i = 0; i < 8 * 8 * 3; i++) img.data[i] = (float)(i % 256);
    const char *p = tu_path(g_dir, "keep.jpg");
    CHECK(clstyle_jpeg_write(p, &img, CLSTYLE_JPEG_DEFAULT_QUALITY, &err) == CLSTYLE_OK, "%s",
          err.msg);
    size_t old_len;
    unsigned char *old = tu_slurp(p, &old_len);

    expect_write_fails(p, &img, 0, CLSTYLE_ERR_USAGE, old, old_len, "quality 0");
    expect_write_fails(p, &img, 101, CLSTYLE_ERR_USAGE, old, old_len, "quality 101");
    clstyle_image nodata = {8, 8, NULL};
    expect_write_fails(p, &nodata, 90, CLSTYLE_ERR_INTERNAL, old, old_len, "no pixels");
    clstyle_image wide = {70000, 1, img.data};
    expect_write_fails(p, &wide, 90, CLSTYLE_ERR_USAGE, old, old_len, "70000 pixels wide");

    char missing[4096];
    snprintf(missing, sizeof missing, "%s/no-such-dir/out.jpg", g_dir);
    expect_write_fails(missing, &img, 90, CLSTYLE_ERR_CANTCREAT, NULL, 0, "missing folder");
    char folder[4096];
    snprintf(folder, sizeof folder, "%s/folder.jpg", g_dir);
    mkdir(folder, 0755);
    clstyle_status st = clstyle_jpeg_write(folder, &img, 90, &err);
    CHECK(st == CLSTYLE_ERR_CANTCREAT && strstr(err.msg, folder), "folder target: %d %s", st,
          err.msg);
    rmdir(folder);

    /* Disk full, portably: a file-size limit makes the write fail with EFBIG. */
    clstyle_image big = {0};
    CHECK(clstyle_image_alloc(&big, 128, 128, &err) == CLSTYLE_OK, "%s", err.msg);
    for (size_t i = 0; i < (size_t)128 * 128 * 3; i++) big.data[i] = (float)(lcg_next() % 256);
    if (tu_full_disk(1)) {
        clstyle_error e2 = {0};
        st = clstyle_jpeg_write(p, &big, 95, &e2);
        tu_full_disk(0);
        tu_check_write_refused(st, &e2, CLSTYLE_ERR_IO, p, old, old_len, g_dir, "disk full");
    }
    clstyle_image_free(&big);
    free(old);
    clstyle_image_free(&img);
}

/* ------------------------------------------------------------ imgfile */

static void test_imgfile(void)
{
    CHECK(clstyle_imgfile_is_jpeg("a.jpg") && clstyle_imgfile_is_jpeg("dir/B.JPEG") &&
              clstyle_imgfile_is_jpeg(".Jpg"),
          "JPEG names not recognised");
    CHECK(!clstyle_imgfile_is_jpeg("a.png") && !clstyle_imgfile_is_jpeg("jpg") &&
              !clstyle_imgfile_is_jpeg("a.jpg.png") && !clstyle_imgfile_is_jpeg("a.jpe") &&
              !clstyle_imgfile_is_jpeg(""),
          "non-JPEG names taken for JPEG");

    clstyle_image img = {0}, a = {0}, b = {0};
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&img, 24, 16, &err) == CLSTYLE_OK, "%s", err.msg);
    for (size_t i = 0; i < 24 * 16 * 3; i++) img.data[i] = (float)((i * 7) % 256);

    const char *pj = tu_path(g_dir, "out.JPG"), *pp = tu_path(g_dir, "out.png");
    CHECK(clstyle_imgfile_write(pj, &img, 8, 100, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(clstyle_imgfile_write(pp, &img, 16, 100, &err) == CLSTYLE_OK, "%s", err.msg);
    size_t len;
    unsigned char *bytes = tu_slurp(pj, &len);
    CHECK(bytes && len > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8,
          ".JPG written as something else");
    free(bytes);
    bytes = tu_slurp(pp, &len);
    CHECK(bytes && len > 8 && bytes[1] == 'P' && bytes[24] == 16, ".png not a 16-bit PNG");
    free(bytes);

    const char *p16 = tu_path(g_dir, "deep.jpeg");
    clstyle_status st = clstyle_imgfile_write(p16, &img, 16, 90, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && strstr(err.msg, p16) && strstr(err.msg, "JPEG is 8-bit"),
          "16-bit JPEG: %d %s", st, err.msg);
    CHECK(access(p16, F_OK) != 0, "16-bit JPEG: a file was written");
    st = clstyle_imgfile_write(p16, &img, 8, 0, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && strstr(err.msg, p16), "quality 0 via imgfile: %d %s", st,
          err.msg);

    /* Content decides, not the name. */
    const char *swapped = tu_path(g_dir, "really-a-jpeg.png");
    rename(pj, swapped);
    CHECK(clstyle_imgfile_read(swapped, 0, &a, &err) == CLSTYLE_OK, "JPEG named .png: %s", err.msg);
    CHECK(clstyle_jpeg_read(swapped, 0, &b, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(a.data && b.data && max_diff_img(&a, &b) == 0.0, "imgfile JPEG differs from jpeg_read");
    clstyle_image_free(&a);
    clstyle_image_free(&b);
    CHECK(clstyle_imgfile_read(pp, 0, &a, &err) == CLSTYLE_OK, "PNG: %s", err.msg);
    CHECK(clstyle_png_read(pp, 0, &b, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(a.data && b.data && max_diff_img(&a, &b) == 0.0, "imgfile PNG differs from png_read");
    clstyle_image_free(&a);
    clstyle_image_free(&b);
    CHECK(clstyle_imgfile_read(pp, 10, &a, &err) == CLSTYLE_ERR_DATA && strstr(err.msg, "limit"),
          "imgfile passes the pixel cap on: %s", err.msg);

    static const struct {
        const char *name, *data;
        size_t n;
        clstyle_status st;
        const char *needle;
    } bad[] = {
        {"junk.jpg", "GIF89a....", 10, CLSTYLE_ERR_DATA, "not a PNG or JPEG file"},
        {"empty.png", "", 0, CLSTYLE_ERR_DATA, "not a PNG or JPEG file"},
        {"short.jpg", "\xFF\xD8", 2, CLSTYLE_ERR_DATA, "not a PNG or JPEG file"},
        {"cut.jpg", "\xFF\xD8\xFF\xE0\x00", 5, CLSTYLE_ERR_DATA, "truncated"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = tu_path(g_dir, bad[i].name);
        tu_write_file(p, bad[i].data, bad[i].n);
        clstyle_image out = {5, 5, (float *)&out};
        st = clstyle_imgfile_read(p, 0, &out, &err);
        CHECK(st == bad[i].st && strstr(err.msg, p) && strstr(err.msg, bad[i].needle) &&
                  out.data == NULL && out.w == 0,
              "imgfile %s: %d %s", bad[i].name, st, err.msg);
    }
    clstyle_image out = {5, 5, (float *)&out};
    st = clstyle_imgfile_read(tu_path(g_dir, "nothing-here.png"), 0, &out, &err);
    CHECK(st == CLSTYLE_ERR_NOINPUT && out.data == NULL, "imgfile missing: %d %s", st, err.msg);
    st = clstyle_imgfile_read(g_dir, 0, &out, &err);
    CHECK(st == CLSTYLE_ERR_NOINPUT && strstr(err.msg, g_dir), "imgfile folder: %d %s", st,
          err.msg);
    clstyle_image_free(&img);
}

int main(void)
{
    g_dir = tu_tmpdir("jpeg");
    snprintf(g_log, sizeof g_log, "%s/stderr.log", g_dir);
    test_baseline_progressive();
    test_gray();
    test_cmyk(JCS_CMYK, "CMYK");
    test_cmyk(JCS_YCCK, "YCCK");
    test_orient_helper();
    test_exif_orientations();
    test_exif_malformed();
    test_pixel_cap();
    test_scan_cap();
    test_malformed();
    test_extraneous_data();
    test_read_buffer();
    test_write_roundtrip();
    test_write_atomic();
    test_imgfile();
    return tu_finish("test_jpeg");
}
