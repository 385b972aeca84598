/* Safetensors reader (mmap + strict validation of the JSON header and the data layout)
 * and atomic F32 writer. Byte order is handled explicitly (little-endian on disk); the
 * only host assumption is that float and uint32_t share a byte order. See safetensors.h. */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hash.h"
#include "json.h"

#define SHOW_CAP 160 /* room for a name quoted in a message */

static const struct {
    const char *name;
    size_t size;
} dtype_table[CLSTYLE_DTYPE_COUNT] = {
    [CLSTYLE_DTYPE_F32] = {"F32", 4},        [CLSTYLE_DTYPE_F16] = {"F16", 2},
    [CLSTYLE_DTYPE_BF16] = {"BF16", 2},      [CLSTYLE_DTYPE_F64] = {"F64", 8},
    [CLSTYLE_DTYPE_I64] = {"I64", 8},        [CLSTYLE_DTYPE_I32] = {"I32", 4},
    [CLSTYLE_DTYPE_I16] = {"I16", 2},        [CLSTYLE_DTYPE_I8] = {"I8", 1},
    [CLSTYLE_DTYPE_U8] = {"U8", 1},          [CLSTYLE_DTYPE_BOOL] = {"BOOL", 1},
    [CLSTYLE_DTYPE_U16] = {"U16", 2},        [CLSTYLE_DTYPE_U32] = {"U32", 4},
    [CLSTYLE_DTYPE_U64] = {"U64", 8},        [CLSTYLE_DTYPE_F8_E4M3] = {"F8_E4M3", 1},
    [CLSTYLE_DTYPE_F8_E5M2] = {"F8_E5M2", 1},
};

const char *clstyle_dtype_name(clstyle_dtype d)
{
    return (unsigned)d < CLSTYLE_DTYPE_COUNT ? dtype_table[d].name : "?";
}

size_t clstyle_dtype_size(clstyle_dtype d)
{
    return (unsigned)d < CLSTYLE_DTYPE_COUNT ? dtype_table[d].size : 0;
}

/* ---- small helpers ---- */

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static float bits_to_float(uint32_t u)
{
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

float clstyle_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
    if (exp == 0) { /* zero or subnormal: man * 2^-24, exact in float */
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    if (exp == 31) return bits_to_float(sign | 0x7F800000u | man << 13); /* Inf, NaN */
    return bits_to_float(sign | (exp + 112) << 23 | man << 13);
}

float clstyle_bf16_to_f32(uint16_t b) { return bits_to_float((uint32_t)b << 16); }

/* A name made safe for a one-line message: control bytes (NUL included) escaped, long
 * names cut (only before a UTF-8 lead byte, so no partial character is printed). */
static const char *show_n(char out[SHOW_CAP], const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (w > SHOW_CAP - 16 && ((c & 0xC0) != 0x80 || w > SHOW_CAP - 8)) {
            memcpy(out + w, "...", 4);
            return out;
        }
        if (c < 0x20 || c == 0x7F) w += (size_t)snprintf(out + w, 5, "\\x%02x", c);
        else out[w++] = (char)c;
    }
    out[w] = '\0';
    return out;
}

static const char *show(char out[SHOW_CAP], const char *s) { return show_n(out, s, strlen(s)); }

/* "[2, 3]" into buf. */
static const char *fmt_shape(char *buf, size_t cap, const clstyle_st_tensor *t)
{
    size_t w = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < t->ndim && w < cap; d++)
        w += (size_t)snprintf(buf + w, cap - w, "%s%" PRId64, d ? ", " : "", t->shape[d]);
    if (w < cap) snprintf(buf + w, cap - w, "]");
    return buf;
}

static int key_is(const clstyle_json *m, const char *key)
{
    size_t n = strlen(key);
    return m->key_len == n && memcmp(m->key, key, n) == 0;
}

static char *dup_str(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static clstyle_status oom(const clstyle_st_file *f, clstyle_error *err)
{
    return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: out of memory", f->path);
}

/* ---- header entries ---- */

static clstyle_status parse_dtype(const clstyle_st_file *f, const char *nm, const clstyle_json *v,
                                  clstyle_st_tensor *t, clstyle_error *err)
{
    char sb[SHOW_CAP];
    if (v->type != CLSTYLE_JSON_STRING)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor '%s': dtype is not a string",
                               f->path, nm);
    for (int d = 0; d < CLSTYLE_DTYPE_COUNT; d++) {
        if (v->str_len == strlen(dtype_table[d].name) && strcmp(v->str, dtype_table[d].name) == 0) {
            t->dtype = (clstyle_dtype)d;
            return CLSTYLE_OK;
        }
    }
    return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor '%s': unknown dtype '%s'", f->path,
                           nm, show_n(sb, v->str, v->str_len));
}

static clstyle_status parse_shape(const clstyle_st_file *f, const char *nm, const clstyle_json *v,
                                  clstyle_st_tensor *t, clstyle_error *err)
{
    if (v->type != CLSTYLE_JSON_ARRAY)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor '%s': shape is not an array",
                               f->path, nm);
    if (v->count > CLSTYLE_ST_MAX_DIMS)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: tensor '%s': shape has %zu dimensions (at most %d)", f->path,
                               nm, v->count, CLSTYLE_ST_MAX_DIMS);
    int d = 0;
    for (const clstyle_json *e = v->child; e; e = e->next, d++) {
        int64_t dim;
        if (!clstyle_json_i64(e, &dim) || dim < 0)
            return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                                   "%s: tensor '%s': shape[%d] is not a non-negative integer",
                                   f->path, nm, d);
        t->shape[d] = dim;
    }
    t->ndim = d;
    return CLSTYLE_OK;
}

static clstyle_status parse_offsets(const clstyle_st_file *f, const char *nm,
                                    const clstyle_json *v, clstyle_st_tensor *t,
                                    clstyle_error *err)
{
    if (v->type != CLSTYLE_JSON_ARRAY || v->count != 2)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: tensor '%s': data_offsets is not an array of two integers",
                               f->path, nm);
    if (!clstyle_json_u64(v->child, &t->begin) || !clstyle_json_u64(v->child->next, &t->end))
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: tensor '%s': data_offsets are not non-negative integers",
                               f->path, nm);
    if (t->end < t->begin)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: tensor '%s': data_offsets end %" PRIu64 " < begin %" PRIu64,
                               f->path, nm, t->end, t->begin);
    return CLSTYLE_OK;
}

/* Shape × dtype size (overflow-checked) must equal the byte range, inside the data. */
static clstyle_status check_extent(const clstyle_st_file *f, const char *nm,
                                   const clstyle_st_tensor *t, clstyle_error *err)
{
    uint64_t numel = 1, esize = clstyle_dtype_size(t->dtype);
    char sh[256];
    for (int d = 0; d < t->ndim; d++) {
        uint64_t dim = (uint64_t)t->shape[d];
        if (dim && numel > UINT64_MAX / dim)
            return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                                   "%s: tensor '%s': shape %s element count overflows", f->path,
                                   nm, fmt_shape(sh, sizeof sh, t));
        numel *= dim;
    }
    if (numel > SIZE_MAX / esize || numel > UINT64_MAX / esize)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor '%s': shape %s byte size overflows",
                               f->path, nm, fmt_shape(sh, sizeof sh, t));
    if (numel * esize != t->end - t->begin)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: tensor '%s': shape %s of %s needs %" PRIu64
                               " bytes but data_offsets [%" PRIu64 ", %" PRIu64 "] span %" PRIu64,
                               f->path, nm, fmt_shape(sh, sizeof sh, t),
                               clstyle_dtype_name(t->dtype), numel * esize, t->begin, t->end,
                               t->end - t->begin);
    if (t->end > f->data_size)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                               "] extend beyond the data section (%" PRIu64 " bytes)",
                               f->path, nm, t->begin, t->end, f->data_size);
    return CLSTYLE_OK;
}

/* Each entry: an object with exactly dtype, shape and data_offsets. */
static clstyle_status parse_entry(clstyle_st_file *f, const clstyle_json *m, clstyle_error *err)
{
    char nb[SHOW_CAP], kb[SHOW_CAP];
    const char *nm = show_n(nb, m->key, m->key_len);
    if (strlen(m->key) != m->key_len)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor name '%s' contains a NUL character",
                               f->path, nm);
    if (m->type != CLSTYLE_JSON_OBJECT)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor '%s': entry is not a JSON object",
                               f->path, nm);
    for (const clstyle_json *k = m->child; k; k = k->next)
        if (!key_is(k, "dtype") && !key_is(k, "shape") && !key_is(k, "data_offsets"))
            return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor '%s': unexpected key '%s'",
                                   f->path, nm, show_n(kb, k->key, k->key_len));
    static const char *const need[3] = {"dtype", "shape", "data_offsets"};
    const clstyle_json *v[3];
    for (int i = 0; i < 3; i++)
        if (!(v[i] = clstyle_json_get(m, need[i])))
            return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor '%s': missing '%s'", f->path,
                                   nm, need[i]);
    clstyle_st_tensor *t = &f->tensors[f->count];
    memset(t, 0, sizeof *t);
    clstyle_status st = parse_dtype(f, nm, v[0], t, err);
    if (!st) st = parse_shape(f, nm, v[1], t, err);
    if (!st) st = parse_offsets(f, nm, v[2], t, err);
    if (!st) st = check_extent(f, nm, t, err);
    if (st) return st;
    if (!(t->name = dup_str(m->key, m->key_len))) return oom(f, err);
    f->count++;
    return CLSTYLE_OK;
}

/* __metadata__: an object of string → string (no NUL inside either). */
static clstyle_status parse_meta(clstyle_st_file *f, const clstyle_json *m, clstyle_error *err)
{
    char kb[SHOW_CAP];
    if (m->type != CLSTYLE_JSON_OBJECT)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: __metadata__ is not a JSON object",
                               f->path);
    if (m->count && !(f->meta = calloc(m->count, sizeof *f->meta))) return oom(f, err);
    for (const clstyle_json *e = m->child; e; e = e->next) {
        const char *k = show_n(kb, e->key, e->key_len);
        if (e->type != CLSTYLE_JSON_STRING)
            return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                                   "%s: __metadata__ value for key '%s' is not a string", f->path, k);
        if (strlen(e->key) != e->key_len || strlen(e->str) != e->str_len)
            return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                                   "%s: __metadata__ entry '%s' contains a NUL character", f->path, k);
        clstyle_st_meta_kv *kv = &f->meta[f->meta_count];
        kv->key = dup_str(e->key, e->key_len);
        kv->value = dup_str(e->str, e->str_len);
        f->meta_count++;
        if (!kv->key || !kv->value) return oom(f, err);
    }
    return CLSTYLE_OK;
}

/* ---- data layout ---- */

static int range_cmp(const void *a, const void *b)
{
    const clstyle_st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Sorted by begin, the ranges must tile [0, data_size) exactly: no overlap, no gap. */
static clstyle_status check_layout(clstyle_st_file *f, clstyle_error *err)
{
    char a[SHOW_CAP], b[SHOW_CAP];
    if (f->count > 1) qsort(f->tensors, (size_t)f->count, sizeof *f->tensors, range_cmp);
    uint64_t pos = 0;
    for (int i = 0; i < f->count; i++) {
        const clstyle_st_tensor *t = &f->tensors[i];
        if (t->begin < pos)
            return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                                   "%s: tensor '%s' (bytes %" PRIu64 "..%" PRIu64
                                   ") overlaps tensor '%s' (bytes %" PRIu64 "..%" PRIu64 ")",
                                   f->path, show(a, t->name), t->begin, t->end,
                                   show(b, t[-1].name), t[-1].begin, t[-1].end);
        if (t->begin > pos)
            return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                                   "%s: gap in the data section: bytes %" PRIu64 "..%" PRIu64
                                   " before tensor '%s' belong to no tensor",
                                   f->path, pos, t->begin, show(a, t->name));
        pos = t->end;
    }
    if (pos != f->data_size)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: gap in the data section: bytes %" PRIu64 "..%" PRIu64
                               " at its end belong to no tensor",
                               f->path, pos, f->data_size);
    return CLSTYLE_OK;
}

/* ---- header ---- */

static clstyle_status json_error(const clstyle_st_file *f, clstyle_status st,
                                 const clstyle_json_error *je, clstyle_error *err)
{
    if (st == CLSTYLE_ERR_INTERNAL) return oom(f, err);
    if (je->reason && strcmp(je->reason, "too many values") == 0)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: header has more than %u JSON values", f->path,
                               CLSTYLE_ST_MAX_VALUES);
    return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: header is not valid JSON: %s at byte %zu",
                           f->path, je->reason, je->offset);
}

static clstyle_status parse_members(clstyle_st_file *f, const clstyle_json *root,
                                    clstyle_error *err)
{
    if (root->count && !(f->tensors = calloc(root->count, sizeof *f->tensors))) return oom(f, err);
    for (const clstyle_json *m = root->child; m; m = m->next) {
        clstyle_status st = key_is(m, "__metadata__") ? parse_meta(f, m, err)
                                                      : parse_entry(f, m, err);
        if (st) return st;
    }
    return check_layout(f, err);
}

static clstyle_status parse_header(clstyle_st_file *f, const char *hdr, size_t n,
                                   clstyle_error *err)
{
    char kb[SHOW_CAP];
    size_t bad = clstyle_utf8_check(hdr, n);
    if (bad != n)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: header is not valid UTF-8 (byte %zu of the header)", f->path,
                               bad);
    if (n == 0 || hdr[0] != '{')
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: header is not a JSON object (it must start with '{')", f->path);
    clstyle_json_doc doc;
    clstyle_json_error je;
    const clstyle_json *dup = NULL;
    clstyle_status st = clstyle_json_parse(hdr, n, CLSTYLE_ST_MAX_VALUES, &doc, &je);
    if (st) return json_error(f, st, &je, err);
    if (doc.root->type != CLSTYLE_JSON_OBJECT) {
        st = clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: header is not a JSON object", f->path);
        goto done;
    }
    if (clstyle_json_find_duplicate(&doc, &dup)) {
        st = oom(f, err);
        goto done;
    }
    if (dup) {
        st = clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: duplicate key '%s' in the header at byte %zu",
                             f->path, show_n(kb, dup->key, dup->key_len), dup->offset);
        goto done;
    }
    st = parse_members(f, doc.root, err);
done:
    clstyle_json_free(&doc);
    return st;
}

static clstyle_status parse_layout(clstyle_st_file *f, clstyle_error *err)
{
    if (f->size < 8)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: file too short for a safetensors header (%zu bytes, need 8)",
                               f->path, f->size);
    f->header_len = le64(f->base);
    if (f->header_len > CLSTYLE_ST_MAX_HEADER)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: header length %" PRIu64 " exceeds the cap of %u bytes",
                               f->path, f->header_len, CLSTYLE_ST_MAX_HEADER);
    if (f->header_len > f->size - 8)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: header length %" PRIu64 " extends beyond the end of the file "
                               "(%zu bytes)", f->path, f->header_len, f->size);
    f->data = f->base + 8 + f->header_len;
    f->data_size = f->size - 8 - f->header_len;
    return parse_header(f, (const char *)f->base + 8, (size_t)f->header_len, err);
}

clstyle_status clstyle_st_parse_buffer(const void *buf, size_t len, const char *name,
                                       clstyle_st_file *f, clstyle_error *err)
{
    memset(f, 0, sizeof *f);
    f->path = dup_str(name ? name : "<buffer>", strlen(name ? name : "<buffer>"));
    if (!f->path) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of memory");
    f->base = buf;
    f->size = len;
    clstyle_status st = parse_layout(f, err);
    if (st) clstyle_st_close(f);
    return st;
}

clstyle_status clstyle_st_open(const char *path, clstyle_st_file *f, clstyle_error *err)
{
    memset(f, 0, sizeof *f);
    int fd;
    clstyle_status st = clstyle_input_open(path, NULL, 0, &fd, err);
    if (st) return st;
    struct stat sb;
    void *map = NULL;
    if (fstat(fd, &sb) != 0) {
        st = clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = clstyle_err_set(err, CLSTYLE_ERR_NOINPUT, "%s: not a regular file", path);
        goto done;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        st = clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: file too large to map", path);
        goto done;
    }
    size_t size = (size_t)sb.st_size;
    if (size > 0) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            map = NULL;
            st = clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot map %s: %s", path, strerror(errno));
            goto done;
        }
    }
    st = clstyle_st_parse_buffer(map ? map : "", size, path, f, err);
    if (st == CLSTYLE_OK) {
        f->map = map;
        f->map_len = size;
        map = NULL;
    }
done:
    if (map) munmap(map, size);
    close(fd);
    return st;
}

void clstyle_st_close(clstyle_st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->count; i++) free(f->tensors[i].name);
    free(f->tensors);
    for (int i = 0; i < f->meta_count; i++) {
        free(f->meta[i].key);
        free(f->meta[i].value);
    }
    free(f->meta);
    if (f->map) munmap(f->map, f->map_len);
    free(f->path);
    memset(f, 0, sizeof *f);
}

const clstyle_st_tensor *clstyle_st_find(const clstyle_st_file *f, const char *name)
{
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *clstyle_st_meta(const clstyle_st_file *f, const char *key)
{
    for (int i = 0; i < f->meta_count; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value;
    return NULL;
}

size_t clstyle_st_numel(const clstyle_st_tensor *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

/* ---- conversion ---- */

static clstyle_status check_finite(const clstyle_st_file *f, const clstyle_st_tensor *t,
                                   const float *v, size_t n, clstyle_error *err)
{
    char nb[SHOW_CAP];
    for (size_t i = 0; i < n; i++) {
        if (isfinite(v[i])) continue;
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor '%s' element %zu is %s", f->path,
                               show(nb, t->name), i,
                               isnan(v[i]) ? "NaN" : v[i] > 0 ? "+Inf" : "-Inf");
    }
    return CLSTYLE_OK;
}

clstyle_status clstyle_st_read_f32(const clstyle_st_file *f, const clstyle_st_tensor *t,
                                   float *dst, clstyle_error *err)
{
    char nb[SHOW_CAP];
    size_t n = clstyle_st_numel(t), es = clstyle_dtype_size(t->dtype);
    const uint8_t *src = f->data + t->begin;
    if (t->end > f->data_size || t->end - t->begin != (uint64_t)n * es)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: tensor '%s' does not belong to it",
                               f->path, show(nb, t->name));
    switch (t->dtype) {
    case CLSTYLE_DTYPE_F32:
        for (size_t i = 0; i < n; i++) dst[i] = bits_to_float(le32(src + 4 * i));
        break;
    case CLSTYLE_DTYPE_F16:
        for (size_t i = 0; i < n; i++) dst[i] = clstyle_f16_to_f32(le16(src + 2 * i));
        break;
    case CLSTYLE_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) dst[i] = clstyle_bf16_to_f32(le16(src + 2 * i));
        break;
    default:
        return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                               "%s: tensor '%s' has dtype %s; expected F32, F16 or BF16", f->path,
                               show(nb, t->name), clstyle_dtype_name(t->dtype));
    }
    return check_finite(f, t, dst, n, err);
}

/* ---- writer ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_u64(sbuf *b, uint64_t v)
{
    char tmp[32];
    sb_put(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%" PRIu64, v));
}

/* A JSON string literal; s is valid UTF-8 (checked by the caller). */
static void sb_json_str(sbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            sb_put(b, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", c));
        } else {
            sb_put(b, s, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static int valid_utf8(const char *s) { return s && clstyle_utf8_check(s, strlen(s)) == strlen(s); }

/* Element count of o, or an error for a malformed shape. */
static clstyle_status out_numel(const clstyle_st_out *o, uint64_t *numel, clstyle_error *err)
{
    char nb[SHOW_CAP];
    if (o->ndim < 0 || o->ndim > CLSTYLE_ST_MAX_DIMS)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "safetensors write: tensor '%s': ndim %d",
                               show(nb, o->name), o->ndim);
    uint64_t n = 1;
    for (int d = 0; d < o->ndim; d++) {
        if (o->shape[d] < 0 || (o->shape[d] && n > UINT64_MAX / 4 / (uint64_t)o->shape[d]))
            return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                                   "safetensors write: tensor '%s': invalid shape", show(nb, o->name));
        n *= (uint64_t)o->shape[d];
    }
    if (n > SIZE_MAX / 4)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "safetensors write: tensor '%s': too large",
                               show(nb, o->name));
    *numel = n;
    return CLSTYLE_OK;
}

static clstyle_status check_out(const clstyle_st_out *t, int i, clstyle_error *err)
{
    char nb[SHOW_CAP];
    const clstyle_st_out *o = &t[i];
    if (!valid_utf8(o->name) || strcmp(o->name, "__metadata__") == 0)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "safetensors write: tensor %d has an invalid name", i);
    for (int j = 0; j < i; j++)
        if (strcmp(t[j].name, o->name) == 0)
            return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                                   "safetensors write: duplicate tensor name '%s'",
                                   show(nb, o->name));
    uint64_t numel;
    clstyle_status st = out_numel(o, &numel, err);
    if (st) return st;
    if (numel && !o->data)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "safetensors write: tensor '%s' has no data",
                               show(nb, o->name));
    return CLSTYLE_OK;
}

static clstyle_status build_meta(sbuf *b, const char *const *kv, clstyle_error *err)
{
    if (!kv || !kv[0]) return CLSTYLE_OK;
    sb_str(b, "\"__metadata__\":{");
    for (size_t i = 0; kv[i]; i += 2) {
        if (!valid_utf8(kv[i]) || !valid_utf8(kv[i + 1]))
            return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                                   "safetensors write: metadata entry %zu is invalid", i / 2);
        for (size_t j = 0; j < i; j += 2)
            if (strcmp(kv[j], kv[i]) == 0)
                return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                                       "safetensors write: duplicate metadata key");
        if (i) sb_str(b, ",");
        sb_json_str(b, kv[i]);
        sb_str(b, ":");
        sb_json_str(b, kv[i + 1]);
    }
    sb_str(b, "},");
    return CLSTYLE_OK;
}

/* Header JSON, space-padded so that 8 + its length is a multiple of 8. */
static clstyle_status build_header(sbuf *b, const clstyle_st_out *t, int n,
                                   const char *const *kv, int checked, clstyle_error *err)
{
    sb_str(b, "{");
    clstyle_status st = build_meta(b, kv, err);
    if (st) return st;
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        uint64_t numel = 0;
        if ((st = check_out(t, i, err))) return st;
        out_numel(&t[i], &numel, err);
        if (i) sb_str(b, ",");
        sb_json_str(b, t[i].name);
        sb_str(b, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t[i].ndim; d++) {
            if (d) sb_str(b, ",");
            sb_u64(b, (uint64_t)t[i].shape[d]);
        }
        sb_str(b, "],\"data_offsets\":[");
        sb_u64(b, off);
        sb_str(b, ",");
        if (numel * 4 > UINT64_MAX - off)
            return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "safetensors write: data too large");
        off += numel * 4;
        sb_u64(b, off);
        sb_str(b, "]}");
    }
    if (checked) {
        if (n) sb_str(b, ",");
        sb_json_str(b, CLSTYLE_ST_CHECKSUM);
        sb_str(b, ":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[");
        sb_u64(b, off);
        sb_str(b, ",");
        sb_u64(b, off + 8);
        sb_str(b, "]}");
    }
    if (b->len > 0 && b->p[b->len - 1] == ',') b->len--; /* metadata only */
    sb_str(b, "}");
    while ((8 + b->len) % 8) sb_str(b, " ");
    if (b->oom) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "safetensors write: out of memory");
    return CLSTYLE_OK;
}

/* Floats as little-endian bytes, in chunks. */
static clstyle_status write_floats(clstyle_atomic_file *af, const float *v, size_t n, uint64_t *h,
                                   clstyle_error *err)
{
    uint8_t buf[4096 * 4];
    while (n) {
        size_t k = n < 4096 ? n : 4096;
        for (size_t i = 0; i < k; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            for (int j = 0; j < 4; j++) buf[4 * i + (size_t)j] = (uint8_t)(u >> (8 * j));
        }
        clstyle_status st = clstyle_atomic_write(af, buf, 4 * k, err);
        if (st) return st;
        *h = clstyle_hash(*h, buf, 4 * k);
        v += k;
        n -= k;
    }
    return CLSTYLE_OK;
}

static clstyle_status st_write(const char *path, const clstyle_st_out *tensors, int n, const char *const *meta_kv,
                               int checked, clstyle_error *err)
{
    if (n < 0 || (n > 0 && !tensors))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "safetensors write: bad tensor list");
    sbuf hdr = {0};
    clstyle_atomic_file af;
    int opened = 0;
    uint64_t h = CLSTYLE_HASH_INIT;
    clstyle_status st = build_header(&hdr, tensors, n, meta_kv, checked, err);
    if (st) goto done;
    if ((st = clstyle_atomic_open(&af, path, err))) goto done;
    opened = 1;
    uint8_t len8[8];
    for (int j = 0; j < 8; j++) len8[j] = (uint8_t)((uint64_t)hdr.len >> (8 * j));
    if ((st = clstyle_atomic_write(&af, len8, 8, err))) goto done;
    if ((st = clstyle_atomic_write(&af, hdr.p, hdr.len, err))) goto done;
    h = clstyle_hash(clstyle_hash(h, len8, 8), hdr.p, hdr.len);
    for (int i = 0; i < n && !st; i++) {
        uint64_t numel = 0;
        out_numel(&tensors[i], &numel, err);
        st = write_floats(&af, tensors[i].data, (size_t)numel, &h, err);
    }
    if (!st && checked) {
        uint8_t sum[8];
        for (int j = 0; j < 8; j++) sum[j] = (uint8_t)(h >> (8 * j));
        st = clstyle_atomic_write(&af, sum, 8, err);
    }
    if (st) goto done;
    opened = 0; /* commit removes the temp file itself on failure */
    st = clstyle_atomic_commit(&af, err);
done:
    if (opened) clstyle_atomic_abort(&af);
    free(hdr.p);
    return st;
}

clstyle_status clstyle_st_write(const char *path, const clstyle_st_out *tensors, int n, const char *const *meta_kv,
                                clstyle_error *err)
{
    return st_write(path, tensors, n, meta_kv, 0, err);
}

clstyle_status clstyle_st_write_checked(const char *path, const clstyle_st_out *tensors, int n,
                                        const char *const *meta_kv, clstyle_error *err)
{
    return st_write(path, tensors, n, meta_kv, 1, err);
}

clstyle_status clstyle_st_verify(const clstyle_st_file *f, const char *what, clstyle_error *err)
{
    const clstyle_st_tensor *t = clstyle_st_find(f, CLSTYLE_ST_CHECKSUM);
    if (!t) return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s %s has no checksum: written by an older clstyle, or not "
                                   "one of its files", what, f->path);
    if (t->dtype != CLSTYLE_DTYPE_U8 || t->ndim != 1 || t->shape[0] != 8 || t->end != f->data_size || f->size < 8 ||
        f->data + t->begin != f->base + f->size - 8)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s %s is corrupt (its checksum is misplaced)", what, f->path);
    uint64_t want = 0, got = clstyle_hash(CLSTYLE_HASH_INIT, f->base, f->size - 8);
    for (int j = 0; j < 8; j++) want |= (uint64_t)f->base[f->size - 8 + (size_t)j] << (8 * j);
    if (want != got)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s %s is corrupt (checksum mismatch)", what, f->path);
    return CLSTYLE_OK;
}
