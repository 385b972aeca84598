/* PNG input/output tests: every PNG format (written here with libpng) decodes to the
 * expected float RGB, malformed and hostile files are refused quietly with a clear
 * message, and writes are exact and atomic. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <png.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "png_io.h"
#include "testutil.h"

static const char *g_dir;


/* ------------------------------------------------------------ file helpers */



static uint32_t crc32_calc(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Appends a chunk with a correct CRC to buf (which must have room). */
static size_t put_chunk(unsigned char *buf, size_t at, const char *type, const void *data,
                        uint32_t len)
{
    put_be32(buf + at, len);
    memcpy(buf + at + 4, type, 4);
    if (len) memcpy(buf + at + 8, data, len);
    put_be32(buf + at + 8 + len, crc32_calc(buf + at + 4, 4 + (size_t)len));
    return at + 12 + len;
}

/* Offset of the first chunk of the given type in a PNG file, or 0. */
static size_t find_chunk(const unsigned char *png, size_t len, const char *type)
{
    for (size_t at = 8; at + 12 <= len; at += 12 + get_be32(png + at))
        if (memcmp(png + at + 4, type, 4) == 0) return at;
    return 0;
}

/* ------------------------------------------------------------ writing test PNGs */

typedef struct png_spec {
    int w, h, depth, color, interlace;
    unsigned *samples; /* (h, w, channels) raw sample values */
    png_color palette[256];
    int npal;
    png_byte trns[256]; /* palette alpha */
    int ntrns;
    int has_trns_color; /* gray/RGB tRNS */
    png_color_16 trns_color;
} png_spec;

static int spec_channels(int color)
{
    switch (color) {
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1;
    }
}

static void pack_row(const png_spec *s, int y, unsigned char *row)
{
    int ch = spec_channels(s->color);
    size_t n = (size_t)s->w * ch;
    const unsigned *src = s->samples + (size_t)y * n;
    memset(row, 0, (n * s->depth + 7) / 8);
    for (size_t i = 0; i < n; i++) {
        unsigned v = src[i];
        if (s->depth == 16) {
            row[2 * i] = (unsigned char)(v >> 8);
            row[2 * i + 1] = (unsigned char)v;
        } else if (s->depth == 8) {
            row[i] = (unsigned char)v;
        } else {
            size_t bit = i * s->depth;
            row[bit / 8] |= (unsigned char)(v << (8 - s->depth - bit % 8));
        }
    }
}

static int write_spec(const char *path, const png_spec *s)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    size_t rowbytes = ((size_t)s->w * spec_channels(s->color) * s->depth + 7) / 8;
    unsigned char *img = calloc((size_t)s->h, rowbytes);
    png_bytep *rows = calloc((size_t)s->h, sizeof *rows);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        free(img);
        free(rows);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, s->w, s->h, s->depth, s->color,
                 s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->color == PNG_COLOR_TYPE_PALETTE) png_set_PLTE(png, info, s->palette, s->npal);
    if (s->ntrns) png_set_tRNS(png, info, s->trns, s->ntrns, NULL);
    if (s->has_trns_color) png_set_tRNS(png, info, NULL, 0, &s->trns_color);
    for (int y = 0; y < s->h; y++) {
        rows[y] = img + (size_t)y * rowbytes;
        pack_row(s, y, rows[y]);
    }
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(img);
    free(rows);
    return fclose(f) == 0 ? 0 : -1;
}

static uint32_t g_lcg = 12345;
static unsigned lcg_next(void)
{
    g_lcg = g_lcg * 1664525u + 1013904223u;
    return g_lcg >> 8;
}

/* Fills samples, palette and tRNS; extremes appear in the first pixels. */
static void spec_fill(png_spec *s, int trns)
{
    int ch = spec_channels(s->color);
    size_t n = (size_t)s->w * s->h * ch;
    unsigned maxv = (s->depth == 16) ? 65535u : (1u << s->depth) - 1u;
    if (s->color == PNG_COLOR_TYPE_PALETTE) {
        s->npal = (int)maxv + 1 > 200 ? 200 : (int)maxv + 1;
        maxv = (unsigned)s->npal - 1;
        for (int i = 0; i < s->npal; i++) {
            s->palette[i].red = (png_byte)lcg_next();
            s->palette[i].green = (png_byte)lcg_next();
            s->palette[i].blue = (png_byte)lcg_next();
        }
        if (trns) {
            s->ntrns = s->npal > 1 ? s->npal - 1 : 1; /* the last entry stays opaque */
            for (int i = 0; i < s->ntrns; i++) s->trns[i] = (png_byte)lcg_next();
            s->trns[0] = 0;
        }
    }
    s->samples = malloc(n * sizeof *s->samples);
    for (size_t i = 0; i < n; i++) s->samples[i] = lcg_next() % (maxv + 1);
    s->samples[0] = 0;
    if (n > 1) s->samples[n - 1] = maxv;
    if (trns && s->color != PNG_COLOR_TYPE_PALETTE) {
        s->has_trns_color = 1;
        size_t at = n > (size_t)ch * 2 ? (size_t)ch * 2 : 0; /* pixel 2 (or 0) is transparent */
        if (ch == 1) s->trns_color.gray = (png_uint_16)s->samples[at];
        else {
            s->trns_color.red = (png_uint_16)s->samples[at];
            s->trns_color.green = (png_uint_16)s->samples[at + 1];
            s->trns_color.blue = (png_uint_16)s->samples[at + 2];
        }
    }
}

static double unit(unsigned v, int depth)
{
    return depth == 16 ? v / 257.0 : v * 255.0 / (double)((1u << depth) - 1u);
}

/* The reference decoder: raw samples -> pixel units, alpha over white. */
static void spec_expect(const png_spec *s, int x, int y, float out[3])
{
    int ch = spec_channels(s->color);
    const unsigned *px = s->samples + ((size_t)y * s->w + x) * ch;
    double rgb[3], alpha = 1.0;
    unsigned amax = s->depth == 16 ? 65535u : (1u << s->depth) - 1u;
    if (s->color == PNG_COLOR_TYPE_PALETTE) {
        rgb[0] = s->palette[px[0]].red;
        rgb[1] = s->palette[px[0]].green;
        rgb[2] = s->palette[px[0]].blue;
        if ((int)px[0] < s->ntrns) alpha = s->trns[px[0]] / 255.0;
    } else {
        for (int c = 0; c < 3; c++) rgb[c] = unit(px[ch >= 3 ? c : 0], s->depth);
        if (ch == 2 || ch == 4) alpha = px[ch - 1] / (double)amax;
        if (s->has_trns_color && ch == 1 && px[0] == s->trns_color.gray) alpha = 0.0;
        if (s->has_trns_color && ch == 3 && px[0] == s->trns_color.red &&
            px[1] == s->trns_color.green && px[2] == s->trns_color.blue)
            alpha = 0.0;
    }
    for (int c = 0; c < 3; c++) out[c] = (float)(alpha * rgb[c] + (1.0 - alpha) * 255.0);
}

/* ------------------------------------------------------------ reading valid files */

/* Reads with stderr redirected, so that any libpng chatter is caught. */
static clstyle_status read_quiet(const char *path, size_t cap, clstyle_image *img,
                                 clstyle_error *err, int *printed)
{
    const char *log = tu_path(g_dir, "stderr.log");
    fflush(stderr);
    int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    clstyle_status st = clstyle_png_read(path, cap, img, err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat sb;
    *printed = stat(log, &sb) == 0 && sb.st_size > 0;
    return st;
}

static int compare_spec(const png_spec *s, const clstyle_image *img, const char *what)
{
    int bad = 0;
    size_t plane = (size_t)s->w * s->h;
    for (int y = 0; y < s->h && !bad; y++) {
        for (int x = 0; x < s->w && !bad; x++) {
            float e[3];
            spec_expect(s, x, y, e);
            for (int c = 0; c < 3; c++) {
                float got = img->data[c * plane + (size_t)y * s->w + x];
                if (fabsf(got - e[c]) > 1e-4f) {
                    CHECK(0, "%s: pixel (%d,%d) channel %d = %.6f, expected %.6f", what, x, y, c,
                          got, e[c]);
                    bad = 1;
                    break;
                }
            }
        }
    }
    return !bad;
}

static void test_format(int color, int depth, int trns, int w, int h)
{
    char what[128];
    snprintf(what, sizeof what, "color %d depth %d trns %d %dx%d", color, depth, trns, w, h);
    png_spec s;
    memset(&s, 0, sizeof s);
    s.w = w;
    s.h = h;
    s.depth = depth;
    s.color = color;
    spec_fill(&s, trns);
    clstyle_image img[2];
    for (int il = 0; il < 2; il++) {
        const char *path = tu_path(g_dir, il ? "fmt_interlaced.png" : "fmt_plain.png");
        s.interlace = il;
        CHECK(write_spec(path, &s) == 0, "%s: cannot write test file", what);
        clstyle_error err = {0};
        int printed = 0;
        clstyle_status st = read_quiet(path, 0, &img[il], &err, &printed);
        CHECK(st == CLSTYLE_OK, "%s interlace %d: %s", what, il, err.msg);
        CHECK(!printed, "%s: something was printed to stderr", what);
        if (st != CLSTYLE_OK) img[il].data = NULL;
        else {
            CHECK(img[il].w == w && img[il].h == h, "%s: size %dx%d", what, img[il].w, img[il].h);
            compare_spec(&s, &img[il], what);
        }
    }
    if (img[0].data && img[1].data)
        CHECK(memcmp(img[0].data, img[1].data, (size_t)w * h * 3 * sizeof(float)) == 0,
              "%s: interlaced and plain files decode differently", what);
    clstyle_image_free(&img[0]);
    clstyle_image_free(&img[1]);
    free(s.samples);
}

static void test_all_formats(void)
{
    static const struct { int color, depth, trns; } fmts[] = {
        {PNG_COLOR_TYPE_GRAY, 1, 0}, {PNG_COLOR_TYPE_GRAY, 2, 0}, {PNG_COLOR_TYPE_GRAY, 4, 0},
        {PNG_COLOR_TYPE_GRAY, 8, 0}, {PNG_COLOR_TYPE_GRAY, 16, 0}, {PNG_COLOR_TYPE_GRAY, 4, 1},
        {PNG_COLOR_TYPE_GRAY, 8, 1}, {PNG_COLOR_TYPE_GRAY, 16, 1},
        {PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0}, {PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0},
        {PNG_COLOR_TYPE_PALETTE, 1, 0}, {PNG_COLOR_TYPE_PALETTE, 2, 0},
        {PNG_COLOR_TYPE_PALETTE, 4, 0}, {PNG_COLOR_TYPE_PALETTE, 8, 0},
        {PNG_COLOR_TYPE_PALETTE, 1, 1}, {PNG_COLOR_TYPE_PALETTE, 2, 1},
        {PNG_COLOR_TYPE_PALETTE, 4, 1}, {PNG_COLOR_TYPE_PALETTE, 8, 1},
        {PNG_COLOR_TYPE_RGB, 8, 0}, {PNG_COLOR_TYPE_RGB, 16, 0}, {PNG_COLOR_TYPE_RGB, 8, 1},
        {PNG_COLOR_TYPE_RGB, 16, 1}, {PNG_COLOR_TYPE_RGB_ALPHA, 8, 0},
        {PNG_COLOR_TYPE_RGB_ALPHA, 16, 0},
    };
    static const int sizes[][2] = {{13, 11}, {1, 1}, {5, 3}, {3, 9}, {33, 2}};
    for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
            test_format(fmts[f].color, fmts[f].depth, fmts[f].trns, sizes[k][0], sizes[k][1]);
}

/* Hand-computed values: 16-bit scale and compositing onto white. */
static void test_known_values(void)
{
    png_spec s;
    memset(&s, 0, sizeof s);
    unsigned rgba[] = {0, 0, 0, 0, 200, 100, 0, 51, 10, 20, 30, 255};
    s.w = 3;
    s.h = 1;
    s.depth = 8;
    s.color = PNG_COLOR_TYPE_RGB_ALPHA;
    s.samples = rgba;
    const char *path = tu_path(g_dir, "known.png");
    CHECK(write_spec(path, &s) == 0, "cannot write %s", path);
    clstyle_image img;
    clstyle_error err = {0};
    CHECK(clstyle_png_read(path, 0, &img, &err) == CLSTYLE_OK, "%s", err.msg);
    if (img.data) {
        static const float want[3][3] = {{255, 244, 10}, {255, 224, 20}, {255, 204, 30}};
        for (int c = 0; c < 3; c++)
            for (int x = 0; x < 3; x++)
                CHECK(fabsf(img.data[c * 3 + x] - want[c][x]) < 1e-4f, "alpha: c%d x%d = %f", c,
                      x, img.data[c * 3 + x]);
    }
    clstyle_image_free(&img);

    unsigned gray16[] = {0, 257, 65535, 1, 32896};
    s.w = 5;
    s.depth = 16;
    s.color = PNG_COLOR_TYPE_GRAY;
    s.samples = gray16;
    CHECK(write_spec(path, &s) == 0, "cannot write %s", path);
    CHECK(clstyle_png_read(path, 0, &img, &err) == CLSTYLE_OK, "%s", err.msg);
    if (img.data) {
        static const float want[5] = {0.0f, 1.0f, 255.0f, (float)(1 / 257.0), 128.0f};
        for (int x = 0; x < 5; x++)
            CHECK(img.data[x] == want[x] && img.data[5 + x] == want[x] &&
                      img.data[10 + x] == want[x],
                  "16-bit gray %u -> %f", gray16[x], img.data[x]);
    }
    clstyle_image_free(&img);
}

/* ------------------------------------------------------------ malformed files */

static void expect_refused(const char *path, size_t cap, clstyle_status want, const char *needle,
                           const char *what)
{
    clstyle_image img = {5, 5, (float *)&img};
    clstyle_error err = {0};
    int printed = 0;
    clstyle_status st = read_quiet(path, cap, &img, &err, &printed);
    CHECK(st == want, "%s: status %d, expected %d (%s)", what, st, want, err.msg);
    CHECK(img.data == NULL && img.w == 0 && img.h == 0, "%s: output not cleared", what);
    CHECK(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", what, err.msg);
    CHECK(!needle || strstr(err.msg, needle), "%s: message lacks '%s': %s", what, needle, err.msg);
    CHECK(strchr(err.msg, '\n') == NULL, "%s: message is not one line", what);
    CHECK(!printed, "%s: something was printed to stderr", what);
    if (st == CLSTYLE_OK) clstyle_image_free(&img);
}

/* A small valid RGB PNG, as bytes. */
static unsigned char *valid_png(int w, int h, int interlace, size_t *len)
{
    png_spec s;
    memset(&s, 0, sizeof s);
    s.w = w;
    s.h = h;
    s.depth = 8;
    s.color = PNG_COLOR_TYPE_RGB;
    s.interlace = interlace;
    spec_fill(&s, 0);
    const char *path = tu_path(g_dir, "valid.png");
    CHECK(write_spec(path, &s) == 0, "cannot write %s", path);
    free(s.samples);
    return tu_slurp(path, len);
}

/* A file with a hand-made IHDR and an IDAT holding a tiny zlib stream. */
static size_t forge_png(unsigned char *buf, uint32_t w, uint32_t h, int depth, int color)
{
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    static const unsigned char idat[] = {0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
    unsigned char ihdr[13] = {0};
    put_be32(ihdr, w);
    put_be32(ihdr + 4, h);
    ihdr[8] = (unsigned char)depth;
    ihdr[9] = (unsigned char)color;
    memcpy(buf, sig, 8);
    size_t at = put_chunk(buf, 8, "IHDR", ihdr, 13);
    at = put_chunk(buf, at, "IDAT", idat, sizeof idat);
    return put_chunk(buf, at, "IEND", NULL, 0);
}

static void test_malformed(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/does-not-exist.png", g_dir);
    expect_refused(path, 0, CLSTYLE_ERR_NOINPUT, strerror(ENOENT), "missing file");
    expect_refused(g_dir, 0, CLSTYLE_ERR_NOINPUT, NULL, "directory");

    const char *p = tu_path(g_dir, "empty.png");
    tu_write_file(p, "", 0);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "not a PNG file", "empty file");

    unsigned char junk[1000];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)lcg_next();
    p = tu_path(g_dir, "random.png");
    tu_write_file(p, junk, sizeof junk);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "not a PNG file", "random bytes");

    static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1};
    p = tu_path(g_dir, "photo.png");
    tu_write_file(p, jpeg, sizeof jpeg);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "not a PNG file", "JPEG bytes");

    p = tu_path(g_dir, "short-sig.png");
    tu_write_file(p, "\x89PNG", 4);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "not a PNG file", "signature only in part");

    size_t len;
    unsigned char *good = valid_png(24, 17, 0, &len);
    unsigned char *bad = malloc(len);

    memcpy(bad, good, len);
    bad[8 + 8 + 13] ^= 0x55; /* the IHDR CRC */
    p = tu_path(g_dir, "bad-crc.png");
    tu_write_file(p, bad, len);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "CRC", "bad IHDR CRC");

    size_t idat = find_chunk(good, len, "IDAT");
    CHECK(idat > 0, "no IDAT in the valid file");
    uint32_t idat_len = get_be32(good + idat);
    p = tu_path(g_dir, "truncated.png");
    tu_write_file(p, good, idat + 8 + idat_len / 2);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "truncated", "truncated mid-IDAT");
    tu_write_file(p, good, idat);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "truncated", "truncated before IDAT");
    tu_write_file(p, good, len - 12); /* no IEND */
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "truncated", "missing IEND");

    memcpy(bad, good, len);
    for (uint32_t i = 2; i < idat_len - 4; i += 3) bad[idat + 8 + i] ^= 0xA5;
    put_be32(bad + idat + 8 + idat_len, crc32_calc(bad + idat + 4, 4 + (size_t)idat_len));
    p = tu_path(g_dir, "corrupt-zlib.png");
    tu_write_file(p, bad, len);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "corrupt", "corrupt compressed data");

    /* IDAT with a stream too short for the image (valid CRCs everywhere). */
    unsigned char forged[256];
    size_t flen = forge_png(forged, 8, 8, 8, PNG_COLOR_TYPE_RGB);
    p = tu_path(g_dir, "too-little-data.png");
    tu_write_file(p, forged, flen);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, NULL, "not enough image data");

    /* Missing IDAT: signature, IHDR, IEND. */
    memcpy(bad, good, 8 + 25);
    memcpy(bad + 33, good + len - 12, 12);
    p = tu_path(g_dir, "no-idat.png");
    tu_write_file(p, bad, 45);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, NULL, "missing IDAT");

    flen = forge_png(forged, 8, 8, 4, PNG_COLOR_TYPE_RGB);
    p = tu_path(g_dir, "bad-depth.png");
    tu_write_file(p, forged, flen);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "IHDR", "invalid bit depth for RGB");

    flen = forge_png(forged, 8, 8, 8, 5);
    p = tu_path(g_dir, "bad-color.png");
    tu_write_file(p, forged, flen);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "IHDR", "invalid colour type");

    flen = forge_png(forged, 0, 8, 8, PNG_COLOR_TYPE_RGB);
    p = tu_path(g_dir, "zero-width.png");
    tu_write_file(p, forged, flen);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "width", "zero width");

    free(good);
    free(bad);
}

static void test_pixel_cap(void)
{
    unsigned char forged[256];
    size_t flen = forge_png(forged, 100000, 100000, 8, PNG_COLOR_TYPE_RGB);
    const char *p = tu_path(g_dir, "bomb.png");
    tu_write_file(p, forged, flen);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, "100000x100000", "decompression bomb");

    flen = forge_png(forged, 0x7fffffff, 0x7fffffff, 16, PNG_COLOR_TYPE_RGB_ALPHA);
    p = tu_path(g_dir, "bomb-max.png");
    tu_write_file(p, forged, flen);
    expect_refused(p, 0, CLSTYLE_ERR_DATA, NULL, "largest legal dimensions");

    flen = forge_png(forged, 2000, 1, 8, PNG_COLOR_TYPE_RGB);
    p = tu_path(g_dir, "wide.png");
    tu_write_file(p, forged, flen);
    expect_refused(p, 1000, CLSTYLE_ERR_DATA, "limit", "one side over the cap");

    size_t len;
    unsigned char *good = valid_png(20, 20, 0, &len);
    p = tu_path(g_dir, "twenty.png");
    tu_write_file(p, good, len);
    free(good);
    expect_refused(p, 100, CLSTYLE_ERR_DATA, "limit of 100 pixels", "20x20 under a cap of 100");
    clstyle_image img;
    clstyle_error err = {0};
    CHECK(clstyle_png_read(p, 400, &img, &err) == CLSTYLE_OK, "20x20 under a cap of 400: %s",
          err.msg);
    clstyle_image_free(&img);
}

/* clstyle_png_read_buffer: the same pixels as the file reader, the same refusals. */
static void test_read_buffer(void)
{
    size_t len;
    unsigned char *good = valid_png(7, 5, 1, &len);
    const char *p = tu_path(g_dir, "buffer.png");
    tu_write_file(p, good, len);
    clstyle_image a, b;
    clstyle_error err = {0};
    CHECK(clstyle_png_read(p, 0, &a, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(clstyle_png_read_buffer(good, len, "mem.png", 0, &b, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(a.w == b.w && a.h == b.h && a.data && b.data &&
              memcmp(a.data, b.data, sizeof(float) * 3 * (size_t)a.w * (size_t)a.h) == 0,
          "buffer and file readers disagree");
    clstyle_image_free(&a);
    clstyle_image_free(&b);

    static const struct { size_t len; const char *needle; } cut[] = {
        {0, "not a PNG file"}, {5, "not a PNG file"}, {40, "truncated"}};
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        clstyle_image img = {5, 5, (float *)&img};
        clstyle_err_clear(&err);
        clstyle_status st = clstyle_png_read_buffer(good, cut[i].len, "mem.png", 0, &img, &err);
        CHECK(st == CLSTYLE_ERR_DATA, "%zu bytes: status %d (%s)", cut[i].len, st, err.msg);
        CHECK(img.data == NULL && img.w == 0 && img.h == 0, "%zu bytes: output not cleared",
              cut[i].len);
        CHECK(strstr(err.msg, "mem.png") && strstr(err.msg, cut[i].needle),
              "%zu bytes: message lacks the name or '%s': %s", cut[i].len, cut[i].needle, err.msg);
    }
    clstyle_image img;
    clstyle_err_clear(&err);
    CHECK(clstyle_png_read_buffer(good, len, NULL, 20, &img, &err) == CLSTYLE_ERR_DATA &&
              strstr(err.msg, "<memory>") && strstr(err.msg, "limit"),
          "pixel cap on a buffer: %s", err.msg);
    free(good);
}

/* ------------------------------------------------------------ writing */

static void test_write_roundtrip8(void)
{
    clstyle_image img, back;
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&img, 37, 23, &err) == CLSTYLE_OK, "%s", err.msg);
    size_t n = (size_t)37 * 23 * 3;
    for (size_t i = 0; i < n; i++) img.data[i] = (float)(lcg_next() % 256);
    const char *p = tu_path(g_dir, "rt8.png");
    CHECK(clstyle_png_write(p, &img, 8, &err) == CLSTYLE_OK, "%s", err.msg);
    size_t len;
    unsigned char *bytes = tu_slurp(p, &len);
    CHECK(bytes && len > 33 && bytes[24] == 8 && bytes[25] == PNG_COLOR_TYPE_RGB,
          "written file is not 8-bit RGB");
    free(bytes);
    CHECK(clstyle_png_read(p, 0, &back, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(back.w == 37 && back.h == 23 && memcmp(back.data, img.data, n * sizeof(float)) == 0,
          "8-bit round trip is not exact");
    clstyle_image_free(&back);
    CHECK(tu_count_tmp_files(g_dir) == 0, "temp files left behind");

    /* Clamping and rounding (ties away from zero). */
    static const float in[] = {12.5f, 12.4999f, 254.5f, -0.4f, 300.0f, 0.5f, -7.0f, 255.0f};
    static const float want[] = {13, 12, 255, 0, 255, 1, 0, 255};
    clstyle_image_free(&img);
    CHECK(clstyle_image_alloc(&img, 9, 1, &err) == CLSTYLE_OK, "%s", err.msg);
    for (int c = 0; c < 3; c++) {
        memcpy(img.data + c * 9, in, sizeof in);
        img.data[c * 9 + 8] = NAN;
    }
    CHECK(clstyle_png_write(p, &img, 8, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(clstyle_png_read(p, 0, &back, &err) == CLSTYLE_OK, "%s", err.msg);
    for (int x = 0; back.data && x < 9; x++)
        CHECK(back.data[x] == (x < 8 ? want[x] : 0.0f), "quantize %f -> %f",
              x < 8 ? in[x] : NAN, back.data[x]);
    clstyle_image_free(&back);
    clstyle_image_free(&img);
}

static void test_write_roundtrip16(void)
{
    clstyle_image img, back;
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&img, 19, 31, &err) == CLSTYLE_OK, "%s", err.msg);
    size_t n = (size_t)19 * 31 * 3;
    for (size_t i = 0; i < n; i++) img.data[i] = (float)((lcg_next() % 1000001) * 255e-6);
    img.data[0] = 0.0f;
    img.data[1] = 255.0f;
    const char *p = tu_path(g_dir, "rt16.png");
    CHECK(clstyle_png_write(p, &img, 16, &err) == CLSTYLE_OK, "%s", err.msg);
    size_t len;
    unsigned char *bytes = tu_slurp(p, &len);
    CHECK(bytes && len > 33 && bytes[24] == 16 && bytes[25] == PNG_COLOR_TYPE_RGB,
          "written file is not 16-bit RGB");
    free(bytes);
    CHECK(clstyle_png_read(p, 0, &back, &err) == CLSTYLE_OK, "%s", err.msg);
    double worst = 0;
    for (size_t i = 0; back.data && i < n; i++) {
        double d = fabs((double)back.data[i] - img.data[i]);
        if (d > worst) worst = d;
    }
    CHECK(back.data && worst <= 0.5 / 257 + 1e-5, "16-bit round trip error %g", worst);
    CHECK(back.data && back.data[0] == 0.0f && back.data[1] == 255.0f, "16-bit extremes");
    clstyle_image_free(&back);
    clstyle_image_free(&img);
}

/* A failing write must leave the previous file byte-identical and no temp file. */
static void expect_write_fails(const char *path, const clstyle_image *img, int depth,
                               clstyle_status want, const unsigned char *old, size_t old_len,
                               const char *what)
{
    clstyle_error err = {0};
    clstyle_status st = clstyle_png_write(path, img, depth, &err);
    tu_check_write_refused(st, &err, want, path, old, old_len, g_dir, what);
}

static void test_write_atomic(void)
{
    clstyle_image img;
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&img, 8, 8, &err) == CLSTYLE_OK, "%s", err.msg);
    for (size_t i = 0; i < 8 * 8 * 3; i++) img.data[i] = (float)(i % 256);
    const char *p = tu_path(g_dir, "keep.png");
    CHECK(clstyle_png_write(p, &img, 8, &err) == CLSTYLE_OK, "%s", err.msg);
    size_t old_len;
    unsigned char *old = tu_slurp(p, &old_len);

    clstyle_image broken = {0, 8, img.data};
    expect_write_fails(p, &broken, 8, CLSTYLE_ERR_INTERNAL, old, old_len, "zero width");
    clstyle_image nodata = {8, 8, NULL};
    expect_write_fails(p, &nodata, 8, CLSTYLE_ERR_INTERNAL, old, old_len, "no pixels");
    expect_write_fails(p, &img, 12, CLSTYLE_ERR_USAGE, old, old_len, "bit depth 12");

    char missing[4096];
    snprintf(missing, sizeof missing, "%s/no-such-dir/out.png", g_dir);
    expect_write_fails(missing, &img, 8, CLSTYLE_ERR_CANTCREAT, NULL, 0, "missing folder");

    /* Disk full, portably: a file-size limit makes the writes fail with EFBIG. */
    clstyle_image big;
    CHECK(clstyle_image_alloc(&big, 128, 128, &err) == CLSTYLE_OK, "%s", err.msg);
    for (size_t i = 0; i < (size_t)128 * 128 * 3; i++) big.data[i] = (float)(lcg_next() % 256);
    if (tu_full_disk(1)) {
        clstyle_error e2 = {0};
        clstyle_status st = clstyle_png_write(p, &big, 8, &e2);
        tu_full_disk(0);
        tu_check_write_refused(st, &e2, CLSTYLE_ERR_IO, p, old, old_len, g_dir, "disk full");
    }
    clstyle_image_free(&big);
    free(old);
    clstyle_image_free(&img);
}

static void test_alloc(void)
{
    clstyle_image img;
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&img, 0, 5, &err) == CLSTYLE_ERR_USAGE, "zero width accepted");
    CHECK(img.data == NULL, "zero width: data set");
    CHECK(clstyle_image_alloc(&img, 5, -1, &err) == CLSTYLE_ERR_USAGE, "negative height");
    if (sizeof(size_t) <= 4)
        CHECK(clstyle_image_alloc(&img, 65536, 65536, &err) == CLSTYLE_ERR_INTERNAL, "overflow");
    CHECK(clstyle_image_alloc(&img, 3, 2, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(img.w == 3 && img.h == 2 && img.data && img.data[17] == 0.0f, "alloc 3x2");
    clstyle_image_free(&img);
    CHECK(img.data == NULL && img.w == 0, "free clears");
    clstyle_image_free(&img);
}

int main(void)
{
    g_dir = tu_tmpdir("png");
    test_alloc();
    test_all_formats();
    test_known_values();
    test_malformed();
    test_pixel_cap();
    test_read_buffer();
    test_write_roundtrip8();
    test_write_roundtrip16();
    test_write_atomic();
    return tu_finish("test_png");
}
