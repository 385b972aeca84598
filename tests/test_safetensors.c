/* Safetensors reader and writer: valid files (F32/F16/BF16, zero-size and scalar
 * tensors, metadata, unaligned data, writer round trip) and one malformed file per
 * validation rule, checking the status and that the message names what is wrong. */
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "safetensors.h"
#include "testutil.h"

static const char *dir;

static const char *tpath(const char *file)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, file);
    return buf;
}

/* file = u64 n (little-endian) + hdr[0..hlen) + data[0..dlen); returns the path. */
static const char *write_raw(const char *file, uint64_t n, const char *hdr, size_t hlen,
                             const void *data, size_t dlen)
{
    uint8_t *buf = malloc(8 + hlen + dlen + 1);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(n >> (8 * i));
    if (hlen) memcpy(buf + 8, hdr, hlen);
    if (dlen) memcpy(buf + 8 + hlen, data, dlen);
    const char *p = tpath(file);
    CHECK(tu_write_file(p, buf, 8 + hlen + dlen) == 0, "cannot write %s", p);
    free(buf);
    return p;
}

static const char *write_st(const char *file, const char *hdr, const void *data, size_t dlen)
{
    return write_raw(file, strlen(hdr), hdr, strlen(hdr), data, dlen);
}

static int one_line(const char *s) { return strchr(s, '\n') == NULL && strchr(s, '\r') == NULL; }

/* Opening path must fail with status, and the message must name the file and contain
 * each phrase given (phrase2 may be NULL). */
static void expect_open_fail(const char *path, clstyle_status status, const char *phrase,
                             const char *phrase2)
{
    clstyle_st_file f;
    clstyle_error err;
    clstyle_err_clear(&err);
    clstyle_status st = clstyle_st_open(path, &f, &err);
    CHECK(st == status, "%s: status %d, want %d (%s)", path, st, status, err.msg);
    CHECK(strstr(err.msg, path) != NULL, "message does not name the file: %s", err.msg);
    CHECK(strstr(err.msg, phrase) != NULL, "message lacks '%s': %s", phrase, err.msg);
    CHECK(!phrase2 || strstr(err.msg, phrase2) != NULL, "message lacks '%s': %s", phrase2,
          err.msg);
    CHECK(one_line(err.msg), "message is not one line: %s", err.msg);
    CHECK(f.tensors == NULL && f.map == NULL && f.path == NULL && f.count == 0,
          "file struct not cleared after failure");
    if (st == CLSTYLE_OK) clstyle_st_close(&f);
}

static void expect_bad(const char *file, const char *hdr, const void *data, size_t dlen,
                       const char *phrase, const char *phrase2)
{
    expect_open_fail(write_st(file, hdr, data, dlen), CLSTYLE_ERR_DATA, phrase, phrase2);
}

static int open_ok(const char *path, clstyle_st_file *f)
{
    clstyle_error err;
    clstyle_err_clear(&err);
    clstyle_status st = clstyle_st_open(path, f, &err);
    CHECK(st == CLSTYLE_OK, "%s rejected: %s", path, err.msg);
    return st == CLSTYLE_OK;
}

static uint32_t fbits(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return u;
}

static float bitsf(uint32_t u)
{
    float v;
    memcpy(&v, &u, 4);
    return v;
}

static void put_f32(uint8_t *p, float v)
{
    uint32_t u = fbits(v);
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(u >> (8 * i));
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* ---- valid files ---- */

static void test_f32_and_meta(void)
{
    const char *hdr = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"h\\u00e9\"},"
                      "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                      "\"b\":{\"shape\":[3],\"data_offsets\":[24,36],\"dtype\":\"F32\"}}";
    const float vals[9] = {1, 2, 3, 4, 5, 6, -1.0f, 0.5f, 1e-40f};
    uint8_t data[36];
    for (int i = 0; i < 9; i++) put_f32(data + 4 * i, vals[i]);
    clstyle_st_file f;
    if (!open_ok(write_st("f32.safetensors", hdr, data, sizeof data), &f)) return;
    CHECK(f.count == 2 && f.meta_count == 2, "count %d meta %d", f.count, f.meta_count);
    CHECK(f.header_len == strlen(hdr) && f.data_size == 36, "sizes");
    CHECK(strcmp(f.tensors[0].name, "w") == 0, "tensors sorted by offset");
    const clstyle_st_tensor *w = clstyle_st_find(&f, "w"), *b = clstyle_st_find(&f, "b");
    CHECK(w && w->ndim == 2 && w->shape[0] == 2 && w->shape[1] == 3 && w->dtype == CLSTYLE_DTYPE_F32,
          "w header");
    CHECK(b && b->ndim == 1 && b->shape[0] == 3 && b->begin == 24 && b->end == 36, "b header");
    CHECK(clstyle_st_find(&f, "missing") == NULL, "missing tensor");
    CHECK(w && clstyle_st_numel(w) == 6, "numel");
    const char *fmt = clstyle_st_meta(&f, "format"), *note = clstyle_st_meta(&f, "note");
    CHECK(fmt && strcmp(fmt, "pt") == 0, "meta format");
    CHECK(note && strcmp(note, "h\xc3\xa9") == 0, "meta escape decoded");
    CHECK(clstyle_st_meta(&f, "nope") == NULL, "missing meta");
    float out[6];
    clstyle_error err;
    clstyle_err_clear(&err);
    if (w) CHECK(clstyle_st_read_f32(&f, w, out, &err) == CLSTYLE_OK, "read w: %s", err.msg);
    CHECK(w && memcmp(out, vals, 6 * sizeof(float)) == 0, "w values");
    if (b) CHECK(clstyle_st_read_f32(&f, b, out, &err) == CLSTYLE_OK, "read b: %s", err.msg);
    CHECK(b && fbits(out[0]) == fbits(-1.0f) && out[1] == 0.5f && fbits(out[2]) == fbits(1e-40f),
          "b values incl. subnormal");
    clstyle_st_close(&f);
    clstyle_st_close(&f); /* twice is harmless */
}

static void test_unaligned(void)
{
    /* One byte of U8 first, so the F32 tensor starts at an odd data offset; the
     * header is padded to also make the data section itself start unaligned. */
    char hdr[256];
    uint8_t data[1 + 12];
    float vals[3] = {3.25f, -7.5f, 1e30f};
    data[0] = 0xAB;
    for (int i = 0; i < 3; i++) put_f32(data + 1 + 4 * i, vals[i]);
    for (int pad = 0; pad < 4; pad++) {
        snprintf(hdr, sizeof hdr,
                 "{\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                 "\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[1,13]}}%.*s",
                 pad, "    ");
        clstyle_st_file f;
        if (!open_ok(write_st("unaligned.safetensors", hdr, data, sizeof data), &f)) return;
        const clstyle_st_tensor *x = clstyle_st_find(&f, "x");
        float out[3] = {0};
        clstyle_error err;
        CHECK(x && clstyle_st_read_f32(&f, x, out, &err) == CLSTYLE_OK, "read x");
        CHECK(memcmp(out, vals, sizeof vals) == 0, "unaligned values (pad %d)", pad);
        CHECK(f.data[0] == 0xAB, "u byte");
        clstyle_st_close(&f);
    }
}

/* Reference half → double from the definition, for an exhaustive comparison. */
static double f16_ref(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
    return s ? -v : v;
}

static void test_half_conversions(void)
{
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float v = clstyle_f16_to_f32((uint16_t)h);
        double r = f16_ref((uint16_t)h);
        int ok = isnan(r) ? isnan(v) : ((double)v == r && !signbit(v) == !signbit(r));
        bad += !ok;
    }
    CHECK(bad == 0, "%d F16 patterns converted wrongly", bad);
    CHECK(isinf(clstyle_f16_to_f32(0x7C00)) && clstyle_f16_to_f32(0x7C00) > 0, "F16 +Inf");
    CHECK(isinf(clstyle_f16_to_f32(0xFC00)) && clstyle_f16_to_f32(0xFC00) < 0, "F16 -Inf");
    CHECK(isnan(clstyle_f16_to_f32(0x7E00)) && isnan(clstyle_f16_to_f32(0x7C01)), "F16 NaN");
    CHECK(fbits(clstyle_f16_to_f32(0x7E00)) == 0x7FC00000u, "F16 quiet NaN payload");
    CHECK(clstyle_f16_to_f32(0x0001) == 0x1p-24f, "F16 smallest subnormal");
    CHECK(clstyle_f16_to_f32(0x03FF) == 1023 * 0x1p-24f, "F16 largest subnormal");
    CHECK(clstyle_f16_to_f32(0x7BFF) == 65504.0f, "F16 max");
    CHECK(fbits(clstyle_f16_to_f32(0x8000)) == 0x80000000u, "F16 -0");
    CHECK(fbits(clstyle_bf16_to_f32(0x0001)) == 0x00010000u, "BF16 subnormal");
    CHECK(clstyle_bf16_to_f32(0x3F80) == 1.0f && clstyle_bf16_to_f32(0xC049) == -3.140625f,
          "BF16 normal");
    CHECK(isinf(clstyle_bf16_to_f32(0xFF80)) && clstyle_bf16_to_f32(0xFF80) < 0, "BF16 -Inf");
    CHECK(isnan(clstyle_bf16_to_f32(0x7FC1)), "BF16 NaN");
}

static void test_f16_bf16_files(void)
{
    static const uint16_t h[8] = {0x0001, 0x03FF, 0x0400, 0x3C00, 0xC000, 0x7BFF, 0x8000, 0x3555};
    static const uint16_t bf[6] = {0x3F80, 0x0001, 0xC049, 0x8000, 0x007F, 0x7F7F};
    const float hv[8] = {0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, 1.0f, -2.0f, 65504.0f, -0.0f,
                         0.333251953125f};
    const float bv[6] = {1.0f, bitsf(0x00010000u), -3.140625f, -0.0f, bitsf(0x007F0000u),
                         bitsf(0x7F7F0000u)};
    uint8_t data[28];
    for (int i = 0; i < 8; i++) put_u16(data + 2 * i, h[i]);
    for (int i = 0; i < 6; i++) put_u16(data + 16 + 2 * i, bf[i]);
    const char *hdr = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,4],\"data_offsets\":[0,16]},"
                      "\"g\":{\"dtype\":\"BF16\",\"shape\":[6],\"data_offsets\":[16,28]}}";
    clstyle_st_file f;
    if (!open_ok(write_st("half.safetensors", hdr, data, sizeof data), &f)) return;
    float out[8];
    clstyle_error err;
    clstyle_err_clear(&err);
    const clstyle_st_tensor *th = clstyle_st_find(&f, "h"), *tg = clstyle_st_find(&f, "g");
    CHECK(th && th->dtype == CLSTYLE_DTYPE_F16 && tg && tg->dtype == CLSTYLE_DTYPE_BF16, "dtypes");
    if (th && tg) {
        CHECK(clstyle_st_read_f32(&f, th, out, &err) == CLSTYLE_OK, "read F16: %s", err.msg);
        for (int i = 0; i < 8; i++) CHECK(fbits(out[i]) == fbits(hv[i]), "F16[%d] = %g", i, out[i]);
        CHECK(clstyle_st_read_f32(&f, tg, out, &err) == CLSTYLE_OK, "read BF16: %s", err.msg);
        for (int i = 0; i < 6; i++) CHECK(fbits(out[i]) == fbits(bv[i]), "BF16[%d] = %g", i, out[i]);
    }
    clstyle_st_close(&f);
}

static void test_zero_size_and_scalar(void)
{
    const char *hdr = "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"z\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[8,8]},"
                      "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]},"
                      "\"y\":{\"dtype\":\"F32\",\"shape\":[5,0],\"data_offsets\":[0,0]}}";
    uint8_t data[8];
    put_f32(data, 1.5f);
    put_f32(data + 4, -2.5f);
    clstyle_st_file f;
    if (!open_ok(write_st("zero.safetensors", hdr, data, sizeof data), &f)) return;
    CHECK(f.count == 5, "count");
    const clstyle_st_tensor *e = clstyle_st_find(&f, "e"), *s = clstyle_st_find(&f, "s");
    CHECK(e && clstyle_st_numel(e) == 0 && e->ndim == 2, "zero-size numel");
    CHECK(s && s->ndim == 0 && clstyle_st_numel(s) == 1, "scalar numel");
    float v = 0;
    clstyle_error err;
    CHECK(e && clstyle_st_read_f32(&f, e, &v, &err) == CLSTYLE_OK, "read zero-size");
    CHECK(s && clstyle_st_read_f32(&f, s, &v, &err) == CLSTYLE_OK && v == -2.5f, "read scalar");
    clstyle_st_close(&f);

    if (open_ok(write_st("empty.safetensors", "{}", NULL, 0), &f)) {
        CHECK(f.count == 0 && f.meta_count == 0 && f.data_size == 0, "empty file");
        clstyle_st_close(&f);
    }
    if (open_ok(write_st("meta_only.safetensors", "{\"__metadata__\":{}}      ", NULL, 0), &f)) {
        CHECK(f.count == 0 && f.meta_count == 0, "empty metadata, padded header");
        clstyle_st_close(&f);
    }
}

static void test_other_dtypes(void)
{
    static const char *names[] = {"F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8",
                                  "U8",  "BOOL", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2"};
    static const int sizes[] = {4, 2, 2, 8, 8, 4, 2, 1, 1, 1, 2, 4, 8, 1, 1};
    char hdr[4096];
    size_t w = (size_t)snprintf(hdr, sizeof hdr, "{");
    int off = 0;
    for (int i = 0; i < 15; i++) {
        w += (size_t)snprintf(hdr + w, sizeof hdr - w,
                              "%s\"t%d\":{\"dtype\":\"%s\",\"shape\":[1],\"data_offsets\":[%d,%d]}",
                              i ? "," : "", i, names[i], off, off + sizes[i]);
        off += sizes[i];
    }
    snprintf(hdr + w, sizeof hdr - w, "}");
    uint8_t data[64] = {0};
    clstyle_st_file f;
    if (!open_ok(write_st("dtypes.safetensors", hdr, data, (size_t)off), &f)) return;
    CHECK(f.count == 15, "all dtypes parsed");
    for (int i = 0; i < 15 && f.count == 15; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "t%d", i);
        const clstyle_st_tensor *t = clstyle_st_find(&f, nm);
        CHECK(t && strcmp(clstyle_dtype_name(t->dtype), names[i]) == 0 &&
                  clstyle_dtype_size(t->dtype) == (size_t)sizes[i], "dtype %s", names[i]);
    }
    const clstyle_st_tensor *t = clstyle_st_find(&f, "t4");
    float v;
    clstyle_error err;
    clstyle_err_clear(&err);
    CHECK(t && clstyle_st_read_f32(&f, t, &v, &err) == CLSTYLE_ERR_DATA, "I64 not readable as f32");
    CHECK(strstr(err.msg, "'t4'") && strstr(err.msg, "I64"), "I64 message: %s", err.msg);
    clstyle_st_close(&f);
}

/* ---- writer ---- */

/* Temp files the atomic writer would leave behind if it failed to clean up. */
static int count_temp_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp-")) n++;
    closedir(d);
    return n;
}

static void test_roundtrip(void)
{
    const char *odd = "we\"ird\\na\nme\xc3\xa9";
    float w[6] = {FLT_MIN / 2, -0.0f, FLT_MAX, 1.0f / 3, -FLT_MIN, 0x1p-149f};
    float bias[2] = {0.25f, -1e-30f};
    float scal = 42.0f;
    clstyle_st_out outs[4] = {
        {.name = "conv1.weight", .data = w, .ndim = 4, .shape = {2, 3, 1, 1}},
        {.name = odd, .data = bias, .ndim = 1, .shape = {2}},
        {.name = "scalar", .data = &scal, .ndim = 0},
        {.name = "empty", .data = NULL, .ndim = 2, .shape = {0, 5}},
    };
    const char *meta[] = {"iteration", "12", "quote\"key", "line\nvalue", NULL};
    const char *path = tpath("rt.safetensors");
    clstyle_error err;
    clstyle_err_clear(&err);
    CHECK(clstyle_st_write(path, outs, 4, meta, &err) == CLSTYLE_OK, "write: %s", err.msg);
    clstyle_st_file f;
    if (!open_ok(path, &f)) return;
    CHECK((8 + f.header_len) % 8 == 0, "data section 8-byte aligned (N=%llu)",
          (unsigned long long)f.header_len);
    CHECK(f.count == 4 && f.meta_count == 2, "counts");
    const char *it = clstyle_st_meta(&f, "iteration"), *lv = clstyle_st_meta(&f, "quote\"key");
    CHECK(it && strcmp(it, "12") == 0 && lv && strcmp(lv, "line\nvalue") == 0, "metadata");
    for (int i = 0; i < 4; i++) {
        const clstyle_st_tensor *t = clstyle_st_find(&f, outs[i].name);
        CHECK(t != NULL, "tensor %d missing", i);
        if (!t) continue;
        CHECK(t->ndim == outs[i].ndim && memcmp(t->shape, outs[i].shape, sizeof t->shape) == 0,
              "shape %d", i);
        size_t n = clstyle_st_numel(t);
        float buf[8] = {0};
        CHECK(clstyle_st_read_f32(&f, t, buf, &err) == CLSTYLE_OK, "read %d: %s", i, err.msg);
        CHECK(n == 0 || memcmp(buf, outs[i].data, n * sizeof(float)) == 0, "bit-exact %d", i);
    }
    clstyle_st_close(&f);

    /* overwrite in place: no tensors, no metadata */
    CHECK(clstyle_st_write(path, NULL, 0, NULL, &err) == CLSTYLE_OK, "write empty: %s", err.msg);
    if (open_ok(path, &f)) {
        CHECK(f.count == 0 && f.meta_count == 0 && (8 + f.header_len) % 8 == 0, "empty rewrite");
        clstyle_st_close(&f);
    }
    const char *meta_only[] = {"k", "v", NULL};
    CHECK(clstyle_st_write(path, NULL, 0, meta_only, &err) == CLSTYLE_OK, "meta only: %s", err.msg);
    if (open_ok(path, &f)) {
        CHECK(f.count == 0 && f.meta_count == 1, "metadata-only file");
        clstyle_st_close(&f);
    }

    /* the writer stores NaN as given; the reader refuses it */
    float nanv[2] = {1.0f, NAN};
    clstyle_st_out nano = {.name = "n", .data = nanv, .ndim = 1, .shape = {2}};
    CHECK(clstyle_st_write(path, &nano, 1, NULL, &err) == CLSTYLE_OK, "write NaN");
    if (open_ok(path, &f)) {
        CHECK(clstyle_st_read_f32(&f, &f.tensors[0], nanv, &err) == CLSTYLE_ERR_DATA, "NaN read");
        clstyle_st_close(&f);
    }
}

static void expect_write_fail(const char *what, const clstyle_st_out *o, int n,
                              const char *const *meta, clstyle_status want)
{
    clstyle_error err;
    clstyle_err_clear(&err);
    const char *path = tpath("wfail.safetensors");
    clstyle_status st = clstyle_st_write(path, o, n, meta, &err);
    struct stat sb;
    CHECK(st == want, "%s: status %d, want %d (%s)", what, st, want, err.msg);
    CHECK(stat(path, &sb) != 0, "%s: file created", what);
    CHECK(err.msg[0] && one_line(err.msg), "%s: message '%s'", what, err.msg);
}

static void test_writer_errors(void)
{
    float v[4] = {0};
    clstyle_st_out dup[2] = {{.name = "a", .data = v, .ndim = 1, .shape = {1}},
                             {.name = "a", .data = v, .ndim = 1, .shape = {1}}};
    expect_write_fail("duplicate", dup, 2, NULL, CLSTYLE_ERR_INTERNAL);
    clstyle_st_out o = {.name = "__metadata__", .data = v, .ndim = 1, .shape = {1}};
    expect_write_fail("reserved name", &o, 1, NULL, CLSTYLE_ERR_INTERNAL);
    o.name = "bad\xff";
    expect_write_fail("invalid UTF-8 name", &o, 1, NULL, CLSTYLE_ERR_INTERNAL);
    o.name = NULL;
    expect_write_fail("NULL name", &o, 1, NULL, CLSTYLE_ERR_INTERNAL);
    o.name = "x";
    o.shape[0] = -1;
    expect_write_fail("negative dim", &o, 1, NULL, CLSTYLE_ERR_INTERNAL);
    o.shape[0] = 1;
    o.ndim = 9;
    expect_write_fail("ndim 9", &o, 1, NULL, CLSTYLE_ERR_INTERNAL);
    o.ndim = 2;
    o.shape[0] = INT64_MAX;
    o.shape[1] = 4;
    expect_write_fail("size overflow", &o, 1, NULL, CLSTYLE_ERR_INTERNAL);
    o.ndim = 1;
    o.shape[0] = 2;
    o.data = NULL;
    expect_write_fail("NULL data", &o, 1, NULL, CLSTYLE_ERR_INTERNAL);
    o.data = v;
    const char *bad_meta[] = {"k", "\xc0\xaf", NULL};
    expect_write_fail("invalid UTF-8 metadata", &o, 1, bad_meta, CLSTYLE_ERR_INTERNAL);
    const char *dup_meta[] = {"k", "1", "k", "2", NULL};
    expect_write_fail("duplicate metadata", &o, 1, dup_meta, CLSTYLE_ERR_INTERNAL);
    const char *odd_meta[] = {"k", NULL};
    expect_write_fail("key without value", &o, 1, odd_meta, CLSTYLE_ERR_INTERNAL);
    expect_write_fail("negative count", &o, -1, NULL, CLSTYLE_ERR_INTERNAL);

    clstyle_error err;
    clstyle_err_clear(&err);
    CHECK(clstyle_st_write(tpath("no/such/dir/x.safetensors"), &o, 1, NULL, &err) ==
              CLSTYLE_ERR_CANTCREAT, "missing folder: %s", err.msg);
}

/* ---- malformed files ---- */

static const char *T(const char *dtype, const char *shape, const char *offs)
{
    static char buf[8][512];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 512, "{\"dtype\":%s,\"shape\":%s,\"data_offsets\":%s}", dtype, shape, offs);
    return b;
}

static void test_file_level(void)
{
    expect_open_fail(tpath("does-not-exist.safetensors"), CLSTYLE_ERR_NOINPUT, "cannot open", NULL);
    expect_open_fail(dir, CLSTYLE_ERR_NOINPUT, "not a regular file", NULL);
    const char *p = tpath("empty0.safetensors");
    tu_write_file(p, "", 0);
    expect_open_fail(p, CLSTYLE_ERR_DATA, "too short", NULL);
    p = tpath("short.safetensors");
    tu_write_file(p, "\x02\0\0\0\0", 5);
    expect_open_fail(p, CLSTYLE_ERR_DATA, "too short", NULL);
    expect_open_fail(write_raw("beyond.safetensors", 100, "{}        ", 10, NULL, 0),
                     CLSTYLE_ERR_DATA, "beyond the end of the file", "100");
    expect_open_fail(write_raw("beyond1.safetensors", 3, "{}", 2, NULL, 0), CLSTYLE_ERR_DATA,
                     "beyond the end", NULL);
    expect_open_fail(write_raw("huge.safetensors", UINT64_MAX, "{}", 2, NULL, 0), CLSTYLE_ERR_DATA,
                     "cap", "18446744073709551615");
    expect_open_fail(write_raw("cap.safetensors", CLSTYLE_ST_MAX_HEADER + 1, "{}", 2, NULL, 0),
                     CLSTYLE_ERR_DATA, "cap", NULL);
}

static void test_header_syntax(void)
{
    expect_bad("badjson.safetensors", "{\"a\":", NULL, 0, "not valid JSON", "byte 5");
    expect_bad("badjson2.safetensors", "{\"a\":{\"dtype\":\"F32\",}}", NULL, 0, "not valid JSON", NULL);
    expect_bad("array.safetensors", "[1,2]", NULL, 0, "not a JSON object", NULL);
    expect_bad("string.safetensors", "\"x\"", NULL, 0, "not a JSON object", NULL);
    expect_bad("zerohdr.safetensors", "", NULL, 0, "not a JSON object", NULL);
    expect_bad("lead_ws.safetensors", " {}", NULL, 0, "not a JSON object", NULL);
    expect_bad("trailing.safetensors", "{} x", NULL, 0, "not valid JSON", NULL);

    size_t n = 100000;
    char *deep = malloc(n + 16);
    strcpy(deep, "{\"a\":");
    memset(deep + 5, '[', n);
    deep[5 + n] = '\0';
    expect_bad("deep.safetensors", deep, NULL, 0, "not valid JSON", "nesting");
    free(deep);

    /* more JSON values than the parser will hold: rejected before memory grows further */
    size_t nv = CLSTYLE_ST_MAX_VALUES + 10;
    char *many = malloc(2 * nv + 16);
    strcpy(many, "{\"a\":[");
    for (size_t i = 0; i < nv; i++) memcpy(many + 6 + 2 * i, "0,", 2);
    strcpy(many + 6 + 2 * nv - 1, "]}");
    expect_bad("many.safetensors", many, NULL, 0, "more than", "JSON values");
    free(many);

    /* a name far longer than a message: cut, still one line */
    char *longname = malloc(5000);
    strcpy(longname, "{\"");
    for (int i = 0; i < 1000; i++) memcpy(longname + 2 + 4 * i, "\xc3\xa9\\n", 4);
    strcpy(longname + 4002, "\":1}");
    expect_bad("longname.safetensors", longname, NULL, 0, "entry is not a JSON object", "...'");
    free(longname);

    expect_bad("utf8.safetensors", "{\"a\xff\":{}}", NULL, 0, "not valid UTF-8", "byte 3");
    expect_bad("utf8b.safetensors", "{\"__metadata__\":{\"k\":\"\xc0\xaf\"}}", NULL, 0,
               "not valid UTF-8", NULL);
    expect_bad("utf8c.safetensors", "{\"\xed\xa0\x80\":{}}", NULL, 0, "not valid UTF-8", NULL);
}

static void test_entries(void)
{
    char h[1024];
    uint8_t data[64] = {0};
#define BAD(file, phrase, phrase2, dlen, ...)                 \
    do {                                                      \
        snprintf(h, sizeof h, __VA_ARGS__);                   \
        expect_bad(file, h, data, dlen, phrase, phrase2);     \
    } while (0)
    BAD("dtype.safetensors", "unknown dtype 'Q4'", "'w'", 4, "{\"w\":%s}",
        T("\"Q4\"", "[1]", "[0,4]"));
    BAD("dtype_lc.safetensors", "unknown dtype 'f32'", NULL, 4, "{\"w\":%s}",
        T("\"f32\"", "[1]", "[0,4]"));
    BAD("dtype_num.safetensors", "dtype is not a string", "'w'", 4, "{\"w\":%s}",
        T("4", "[1]", "[0,4]"));
    BAD("mismatch.safetensors", "needs 16 bytes", "'w'", 12, "{\"w\":%s}",
        T("\"F32\"", "[2,2]", "[0,12]"));
    BAD("mismatch2.safetensors", "span 12", "[2, 2]", 12, "{\"w\":%s}",
        T("\"F32\"", "[2,2]", "[0,12]"));
    BAD("overflow.safetensors", "overflows", "'w'", 8, "{\"w\":%s}",
        T("\"F32\"", "[4294967296,4294967296,2]", "[0,8]"));
    BAD("overflow_bytes.safetensors", "overflows", "'w'", 8, "{\"w\":%s}",
        T("\"F32\"", "[4611686018427387904]", "[0,8]"));
    BAD("shape_neg.safetensors", "shape[0] is not a non-negative integer", "'w'", 4, "{\"w\":%s}",
        T("\"F32\"", "[-1]", "[0,4]"));
    BAD("shape_float.safetensors", "shape[1] is not a non-negative integer", NULL, 4,
        "{\"w\":%s}", T("\"F32\"", "[1,1.0]", "[0,4]"));
    BAD("shape_big.safetensors", "shape[0]", NULL, 4, "{\"w\":%s}",
        T("\"F32\"", "[9223372036854775808]", "[0,4]"));
    BAD("shape_obj.safetensors", "shape is not an array", "'w'", 4, "{\"w\":%s}",
        T("\"F32\"", "{}", "[0,4]"));
    BAD("shape_9d.safetensors", "9 dimensions", "'w'", 4, "{\"w\":%s}",
        T("\"F32\"", "[1,1,1,1,1,1,1,1,1]", "[0,4]"));
    BAD("off_neg.safetensors", "data_offsets", "'w'", 4, "{\"w\":%s}",
        T("\"F32\"", "[1]", "[-1,3]"));
    BAD("off_float.safetensors", "data_offsets are not non-negative integers", "'w'", 4,
        "{\"w\":%s}", T("\"F32\"", "[1]", "[0.0,4]"));
    BAD("off_exp.safetensors", "data_offsets are not non-negative integers", NULL, 4,
        "{\"w\":%s}", T("\"F32\"", "[1]", "[0,4e0]"));
    BAD("off_str.safetensors", "data_offsets", "'w'", 4, "{\"w\":%s}",
        T("\"F32\"", "[1]", "[\"0\",\"4\"]"));
    BAD("off_three.safetensors", "array of two integers", "'w'", 4, "{\"w\":%s}",
        T("\"F32\"", "[1]", "[0,4,4]"));
    BAD("off_one.safetensors", "array of two integers", NULL, 4, "{\"w\":%s}",
        T("\"F32\"", "[1]", "[4]"));
    BAD("off_huge.safetensors", "data_offsets", NULL, 4, "{\"w\":%s}",
        T("\"F32\"", "[1]", "[0,18446744073709551616]"));
    BAD("end_lt_begin.safetensors", "end 4 < begin 8", "'w'", 8, "{\"w\":%s}",
        T("\"F32\"", "[1]", "[8,4]"));
    BAD("range.safetensors", "beyond the data section", "'w'", 8, "{\"w\":%s}",
        T("\"F32\"", "[4]", "[0,16]"));
    BAD("range2.safetensors", "beyond the data section", "'w'", 8, "{\"w\":%s}",
        T("\"F32\"", "[0]", "[9,9]"));
    BAD("not_obj.safetensors", "entry is not a JSON object", "'w'", 4, "{\"w\":[1]}");
    BAD("extra.safetensors", "unexpected key 'extra'", "'w'", 4,
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}");
    BAD("missing.safetensors", "missing 'shape'", "'w'", 4,
        "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}");
    BAD("nul.safetensors", "NUL", "'a\\x00b'", 4, "{\"a\\u0000b\":%s}", T("\"F32\"", "[1]", "[0,4]"));
    BAD("newline.safetensors", "'a\\x0ab'", "unknown dtype", 4, "{\"a\\nb\":%s}",
        T("\"X\"", "[1]", "[0,4]"));
#undef BAD
}

static void test_layout(void)
{
    char h[1024];
    uint8_t data[64] = {0};
#define BAD(file, phrase, phrase2, dlen, ...)                 \
    do {                                                      \
        snprintf(h, sizeof h, __VA_ARGS__);                   \
        expect_bad(file, h, data, dlen, phrase, phrase2);     \
    } while (0)
    BAD("overlap.safetensors", "overlaps", "'b'", 12, "{\"a\":%s,\"b\":%s}",
        T("\"F32\"", "[2]", "[0,8]"), T("\"F32\"", "[2]", "[4,12]"));
    BAD("overlap_same.safetensors", "overlaps", NULL, 8, "{\"a\":%s,\"b\":%s}",
        T("\"F32\"", "[2]", "[0,8]"), T("\"F32\"", "[2]", "[0,8]"));
    BAD("overlap_zero.safetensors", "overlaps", "'z'", 8, "{\"a\":%s,\"z\":%s}",
        T("\"F32\"", "[2]", "[0,8]"), T("\"F32\"", "[0]", "[4,4]"));
    BAD("gap.safetensors", "gap", "'b'", 12, "{\"a\":%s,\"b\":%s}",
        T("\"F32\"", "[1]", "[0,4]"), T("\"F32\"", "[1]", "[8,12]"));
    BAD("gap_start.safetensors", "gap", "bytes 0..4", 8, "{\"a\":%s}",
        T("\"F32\"", "[1]", "[4,8]"));
    BAD("gap_end.safetensors", "gap", "at its end", 8, "{\"a\":%s}", T("\"F32\"", "[1]", "[0,4]"));
    BAD("gap_none.safetensors", "gap", "bytes 0..4", 4, "{}");
    BAD("dup.safetensors", "duplicate key 'a'", NULL, 8, "{\"a\":%s,\"a\":%s}",
        T("\"F32\"", "[1]", "[0,4]"), T("\"F32\"", "[1]", "[4,8]"));
    BAD("dup_inner.safetensors", "duplicate key 'dtype'", NULL, 4,
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"dtype\":\"F32\"}}");
    BAD("dup_meta.safetensors", "duplicate key '__metadata__'", NULL, 0,
        "{\"__metadata__\":{},\"__metadata__\":{}}");
    BAD("dup_metakey.safetensors", "duplicate key 'k'", NULL, 0,
        "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}");
    BAD("meta_num.safetensors", "__metadata__ value for key 'k' is not a string", NULL, 0,
        "{\"__metadata__\":{\"k\":1}}");
    BAD("meta_nested.safetensors", "__metadata__ value for key 'k'", NULL, 0,
        "{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}");
    BAD("meta_str.safetensors", "__metadata__ is not a JSON object", NULL, 0,
        "{\"__metadata__\":\"x\"}");
    BAD("meta_nul.safetensors", "NUL", NULL, 0, "{\"__metadata__\":{\"k\":\"a\\u0000\"}}");
#undef BAD
}

/* Non-finite values pass open() (data is not scanned there) but fail read_f32. */
static void test_nonfinite(void)
{
    struct {
        const char *dtype;
        int esize;
        uint32_t bits;
        const char *phrase;
    } cases[] = {
        {"F32", 4, 0x7FC00000u, "is NaN"},  {"F32", 4, 0xFF800000u, "is -Inf"},
        {"F32", 4, 0x7F800000u, "is +Inf"}, {"F16", 2, 0x7E00u, "is NaN"},
        {"F16", 2, 0x7C00u, "is +Inf"},     {"BF16", 2, 0xFF80u, "is -Inf"},
        {"BF16", 2, 0x7FC1u, "is NaN"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t data[16] = {0};
        int es = cases[c].esize;
        for (int i = 0; i < es && i < 4; i++) data[2 * es + i] = (uint8_t)(cases[c].bits >> (8 * i));
        char h[256];
        snprintf(h, sizeof h, "{\"bad.weight\":{\"dtype\":\"%s\",\"shape\":[4],"
                 "\"data_offsets\":[0,%d]}}", cases[c].dtype, 4 * es);
        clstyle_st_file f;
        if (!open_ok(write_st("nonfinite.safetensors", h, data, (size_t)(4 * es)), &f)) continue;
        float out[4];
        clstyle_error err;
        clstyle_err_clear(&err);
        CHECK(clstyle_st_read_f32(&f, &f.tensors[0], out, &err) == CLSTYLE_ERR_DATA,
              "%s %s accepted", cases[c].dtype, cases[c].phrase);
        CHECK(strstr(err.msg, "'bad.weight'") && strstr(err.msg, "element 2") &&
                  strstr(err.msg, cases[c].phrase) && strstr(err.msg, "nonfinite.safetensors"),
              "message: %s", err.msg);
        clstyle_st_close(&f);
    }
}

static void test_parse_buffer(void)
{
    const char *hdr = "{\"x\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}";
    size_t n = strlen(hdr);
    uint8_t buf[256];
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(buf + 8, hdr, n);
    put_u16(buf + 8 + n, 0x4040);
    clstyle_st_file f;
    clstyle_error err;
    clstyle_err_clear(&err);
    CHECK(clstyle_st_parse_buffer(buf, 8 + n + 2, "mem", &f, &err) == CLSTYLE_OK, "buffer: %s",
          err.msg);
    float v = 0;
    CHECK(f.count == 1 && clstyle_st_read_f32(&f, &f.tensors[0], &v, &err) == CLSTYLE_OK && v == 3.0f,
          "buffer value");
    clstyle_st_close(&f);
    CHECK(clstyle_st_parse_buffer(buf, 8 + n + 3, "mem", &f, &err) == CLSTYLE_ERR_DATA &&
              strncmp(err.msg, "mem: ", 5) == 0, "buffer name in message: %s", err.msg);
}

int main(void)
{
    dir = tu_tmpdir("safetensors");
    test_f32_and_meta();
    test_unaligned();
    test_half_conversions();
    test_f16_bf16_files();
    test_zero_size_and_scalar();
    test_other_dtypes();
    test_roundtrip();
    test_writer_errors();
    test_file_level();
    test_header_syntax();
    test_entries();
    test_layout();
    test_nonfinite();
    test_parse_buffer();
    CHECK(count_temp_files() == 0, "writer left temp files in %s", dir);
    return tu_finish("test_safetensors");
}
