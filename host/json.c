/* Strict JSON parser: an explicit stack instead of recursion (depth capped), one
 * preallocated block for decoded strings, a growable node array linked into a tree at
 * the end. See json.h. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A container being filled: its node and its last child so far (indices, 0 = none;
 * index 0 is the root, which is never a child). */
typedef struct json_frame {
    size_t node;
    size_t last;
} json_frame;

typedef struct json_parser {
    const unsigned char *s;
    size_t len, pos;
    size_t max_values;
    clstyle_json_doc *doc;
    size_t cap;               /* allocated nodes */
    size_t *links;            /* 2 per node while parsing: first child, next sibling */
    char *sp;                 /* next free byte in doc->strings */
    const char *key;          /* pending object key for the next value */
    size_t key_len;
    json_frame stack[CLSTYLE_JSON_MAX_DEPTH];
    int depth;
    clstyle_json_error *jerr;
    clstyle_status status;
} json_parser;

static int fail(json_parser *p, size_t at, const char *reason)
{
    p->jerr->offset = at;
    p->jerr->reason = reason;
    p->status = CLSTYLE_ERR_DATA;
    return -1;
}

static int fail_oom(json_parser *p)
{
    fail(p, p->pos, "out of memory");
    p->status = CLSTYLE_ERR_INTERNAL;
    return -1;
}

/* ---- UTF-8 ---- */

static int is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 if malformed. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2 || c > 0xF4) return 0;
    size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (len < n) return 0;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c == 0xE0) lo = 0xA0;            /* overlong 3-byte */
    if (c == 0xED) hi = 0x9F;            /* UTF-16 surrogates */
    if (c == 0xF0) lo = 0x90;            /* overlong 4-byte */
    if (c == 0xF4) hi = 0x8F;            /* above U+10FFFF */
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (!is_cont(s[i])) return 0;
    return n;
}

size_t clstyle_utf8_check(const void *s, size_t len)
{
    const unsigned char *b = s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(b + i, len - i);
        if (!n) return i;
        i += n;
    }
    return len;
}

static char *utf8_put(char *w, uint32_t cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xC0 | (cp >> 6));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xE0 | (cp >> 12));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *w++ = (char)(0xF0 | (cp >> 18));
        *w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    return w;
}

/* ---- lexing helpers ---- */

static void skip_ws(json_parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
        p->pos++;
    }
}

static int peek(const json_parser *p) { return p->pos < p->len ? p->s[p->pos] : -1; }

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static int hex_val(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads \uXXXX (p->pos at the backslash) into *cu. */
static int read_u_escape(json_parser *p, uint32_t *cu)
{
    if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
        return fail(p, p->pos, "expected \\u escape");
    uint32_t v = 0;
    for (size_t i = 2; i < 6; i++) {
        int h = hex_val(p->s[p->pos + i]);
        if (h < 0) return fail(p, p->pos + i, "invalid hex digit in \\u escape");
        v = (v << 4) | (uint32_t)h;
    }
    p->pos += 6;
    *cu = v;
    return 0;
}

/* \uXXXX, possibly a surrogate pair, appended to *w as UTF-8. */
static int unicode_escape(json_parser *p, char **w)
{
    size_t at = p->pos;
    uint32_t cp, lo;
    if (read_u_escape(p, &cp)) return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(p, at, "unpaired low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (peek(p) != '\\') return fail(p, at, "unpaired high surrogate");
        if (read_u_escape(p, &lo)) return -1;
        if (lo < 0xDC00 || lo > 0xDFFF) return fail(p, at, "unpaired high surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    *w = utf8_put(*w, cp);
    return 0;
}

/* Escape at p->pos (the backslash). */
static int escape(json_parser *p, char **w)
{
    if (p->pos + 1 >= p->len) return fail(p, p->pos, "unterminated string");
    char c;
    switch (p->s[p->pos + 1]) {
    case '"': c = '"'; break;
    case '\\': c = '\\'; break;
    case '/': c = '/'; break;
    case 'b': c = '\b'; break;
    case 'f': c = '\f'; break;
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;
    case 'u': return unicode_escape(p, w);
    default: return fail(p, p->pos, "invalid escape sequence");
    }
    *(*w)++ = c;
    p->pos += 2;
    return 0;
}

/* String at p->pos (the opening quote), decoded into the string block. The block has
 * len + 1 bytes and a string token of n bytes needs at most n - 1, so it never fills. */
static int parse_string(json_parser *p, const char **out, size_t *out_len)
{
    size_t start = p->pos++;
    char *w = p->sp;
    for (;;) {
        if (p->pos >= p->len) return fail(p, start, "unterminated string");
        unsigned char c = p->s[p->pos];
        if (c == '"') break;
        if (c < 0x20) return fail(p, p->pos, "control character in string");
        if (c == '\\') {
            if (escape(p, &w)) return -1;
            continue;
        }
        size_t n = utf8_seq(p->s + p->pos, p->len - p->pos);
        if (!n) return fail(p, p->pos, "invalid UTF-8 in string");
        memcpy(w, p->s + p->pos, n);
        w += n;
        p->pos += n;
    }
    p->pos++;
    *w = '\0';
    *out = p->sp;
    *out_len = (size_t)(w - p->sp);
    p->sp = w + 1;
    return 0;
}

static void scan_digits(json_parser *p)
{
    while (p->pos < p->len && is_digit(p->s[p->pos])) p->pos++;
}

/* Integer part at p->pos: "0" or [1-9][0-9]*, accumulated with overflow detection. */
static int integer_part(json_parser *p, clstyle_json *v)
{
    if (!is_digit(peek(p))) return fail(p, p->pos, "invalid number");
    if (p->s[p->pos] == '0') {
        p->pos++;
        if (is_digit(peek(p))) return fail(p, p->pos - 1, "leading zero in number");
        return 0;
    }
    for (; p->pos < p->len && is_digit(p->s[p->pos]); p->pos++) {
        uint64_t d = (uint64_t)(p->s[p->pos] - '0');
        if (v->int_overflow) continue;
        if (v->magnitude > (UINT64_MAX - d) / 10) {
            v->int_overflow = 1;
            v->magnitude = 0;
            continue;
        }
        v->magnitude = v->magnitude * 10 + d;
    }
    return 0;
}

/* Number at p->pos. The token is copied into the free part of the string block (at
 * least token length + 1 bytes remain there) for strtod, then the space is reused. */
static int parse_number(json_parser *p, clstyle_json *v)
{
    size_t start = p->pos;
    v->is_int = 1;
    if (peek(p) == '-') {
        v->negative = 1;
        p->pos++;
    }
    if (integer_part(p, v)) return -1;
    if (peek(p) == '.') {
        p->pos++;
        if (!is_digit(peek(p))) return fail(p, p->pos, "expected digit after '.'");
        scan_digits(p);
        v->is_int = 0;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-') p->pos++;
        if (!is_digit(peek(p))) return fail(p, p->pos, "expected digit in exponent");
        scan_digits(p);
        v->is_int = 0;
    }
    size_t n = p->pos - start;
    memcpy(p->sp, p->s + start, n);
    p->sp[n] = '\0';
    v->num = strtod(p->sp, NULL);
    if (!isfinite(v->num)) return fail(p, start, "number out of range");
    if (!v->is_int) {
        v->negative = 0;
        v->magnitude = 0;
        v->int_overflow = 0;
    }
    return 0;
}

static int parse_literal(json_parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, p->pos, "invalid literal");
    p->pos += n;
    return 0;
}

/* ---- tree building ---- */

static int grow(json_parser *p)
{
    size_t cap = p->cap ? p->cap * 2 : 64;
    if (p->max_values && cap > p->max_values) cap = p->max_values;
    if (cap > SIZE_MAX / sizeof(clstyle_json)) return fail_oom(p);
    clstyle_json *nodes = realloc(p->doc->nodes, cap * sizeof *nodes);
    if (!nodes) return fail_oom(p);
    p->doc->nodes = nodes;
    size_t *links = realloc(p->links, cap * 2 * sizeof *links);
    if (!links) return fail_oom(p);
    p->links = links;
    p->cap = cap;
    return 0;
}

/* Appends a node of the given type at p->pos to the open container (if any). */
static clstyle_json *new_node(json_parser *p, clstyle_json_type type)
{
    clstyle_json_doc *d = p->doc;
    if (p->max_values && d->count >= p->max_values) {
        fail(p, p->pos, "too many values");
        return NULL;
    }
    if (d->count == p->cap && grow(p)) return NULL;
    size_t i = d->count++;
    clstyle_json *v = &d->nodes[i];
    memset(v, 0, sizeof *v);
    v->type = type;
    v->offset = p->pos;
    p->links[2 * i] = p->links[2 * i + 1] = 0;
    if (p->depth == 0) return v;
    json_frame *f = &p->stack[p->depth - 1];
    if (f->last) p->links[2 * f->last + 1] = i;
    else p->links[2 * f->node] = i;
    f->last = i;
    d->nodes[f->node].count++;
    if (d->nodes[f->node].type == CLSTYLE_JSON_OBJECT) {
        v->key = p->key;
        v->key_len = p->key_len;
    }
    return v;
}

static int top_is(const json_parser *p, clstyle_json_type type)
{
    return p->depth > 0 && p->doc->nodes[p->stack[p->depth - 1].node].type == type;
}

static int open_container(json_parser *p, clstyle_json_type type)
{
    if (p->depth == CLSTYLE_JSON_MAX_DEPTH) return fail(p, p->pos, "nesting too deep");
    if (!new_node(p, type)) return -1;
    p->stack[p->depth].node = p->doc->count - 1;
    p->stack[p->depth].last = 0;
    p->depth++;
    p->pos++;
    return 0;
}

/* One value at p->pos. Containers are only opened here; the main loop fills them. */
static int value(json_parser *p)
{
    int c = peek(p);
    if (c == '{') return open_container(p, CLSTYLE_JSON_OBJECT);
    if (c == '[') return open_container(p, CLSTYLE_JSON_ARRAY);
    if (c < 0) return fail(p, p->pos, "unexpected end of input");
    clstyle_json *v;
    switch (c) {
    case '"':
        if (!(v = new_node(p, CLSTYLE_JSON_STRING))) return -1;
        return parse_string(p, &v->str, &v->str_len);
    case 't':
    case 'f':
        if (!(v = new_node(p, CLSTYLE_JSON_BOOL))) return -1;
        v->boolean = c == 't';
        return parse_literal(p, c == 't' ? "true" : "false");
    case 'n':
        if (!new_node(p, CLSTYLE_JSON_NULL)) return -1;
        return parse_literal(p, "null");
    default:
        if (c != '-' && !is_digit(c)) return fail(p, p->pos, "unexpected character");
        if (!(v = new_node(p, CLSTYLE_JSON_NUMBER))) return -1;
        return parse_number(p, v);
    }
}

/* Object key and colon at p->pos (after skipping whitespace). */
static int member_key(json_parser *p)
{
    skip_ws(p);
    if (peek(p) != '"') return fail(p, p->pos, "expected string key");
    if (parse_string(p, &p->key, &p->key_len)) return -1;
    skip_ws(p);
    if (peek(p) != ':') return fail(p, p->pos, "expected ':'");
    p->pos++;
    return 0;
}

/* After a complete value inside a container: ',' or the closing bracket.
 * Sets *want_value when another value follows. */
static int after_value(json_parser *p, int *want_value)
{
    int is_obj = top_is(p, CLSTYLE_JSON_OBJECT);
    int c = peek(p);
    if (c == ',') {
        p->pos++;
        *want_value = 1;
        return is_obj ? member_key(p) : 0;
    }
    if (c == (is_obj ? '}' : ']')) {
        p->pos++;
        p->depth--;
        *want_value = 0;
        return 0;
    }
    if (c < 0) return fail(p, p->pos, "unexpected end of input");
    return fail(p, p->pos, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
}

/* Right after '[' or '{': either the closing bracket or the first element. */
static int first_in_container(json_parser *p, int *want_value)
{
    int is_obj = top_is(p, CLSTYLE_JSON_OBJECT);
    if (peek(p) == (is_obj ? '}' : ']')) {
        p->pos++;
        p->depth--;
        *want_value = 0;
        return 0;
    }
    *want_value = 1;
    return is_obj ? member_key(p) : 0;
}

static int run(json_parser *p)
{
    int want_value = 1;
    for (;;) {
        skip_ws(p);
        if (want_value) {
            int depth = p->depth;
            if (value(p)) return -1;
            if (p->depth > depth) {
                skip_ws(p);
                if (first_in_container(p, &want_value)) return -1;
                continue;
            }
            want_value = 0;
            continue;
        }
        if (p->depth == 0) break;
        if (after_value(p, &want_value)) return -1;
    }
    if (p->pos != p->len) return fail(p, p->pos, "unexpected data after the value");
    return 0;
}

/* Turns the index links into pointers once the node array no longer moves. */
static void link_tree(json_parser *p)
{
    clstyle_json *n = p->doc->nodes;
    for (size_t i = 0; i < p->doc->count; i++) {
        size_t c = p->links[2 * i], s = p->links[2 * i + 1];
        n[i].child = c ? &n[c] : NULL;
        n[i].next = s ? &n[s] : NULL;
    }
    p->doc->root = &n[0];
}

clstyle_status clstyle_json_parse(const void *text, size_t len, size_t max_values,
                                  clstyle_json_doc *doc, clstyle_json_error *jerr)
{
    clstyle_json_error jdummy;
    json_parser p;
    memset(&p, 0, sizeof p);
    memset(doc, 0, sizeof *doc);
    p.s = text;
    p.len = len;
    p.max_values = max_values;
    p.doc = doc;
    p.jerr = jerr ? jerr : &jdummy;
    p.jerr->offset = 0;
    p.jerr->reason = NULL;
    p.status = CLSTYLE_OK;
    if (len == SIZE_MAX) {
        fail(&p, 0, "input too large");
        goto done;
    }
    doc->strings = malloc(len + 1);
    if (!doc->strings) {
        fail_oom(&p);
        goto done;
    }
    p.sp = doc->strings;
    if (run(&p) == 0) link_tree(&p);
done:
    free(p.links);
    if (p.status != CLSTYLE_OK) clstyle_json_free(doc);
    return p.status;
}

void clstyle_json_free(clstyle_json_doc *doc)
{
    if (!doc) return;
    free(doc->nodes);
    free(doc->strings);
    memset(doc, 0, sizeof *doc);
}

/* ---- queries ---- */

static int key_cmp(const void *a, const void *b)
{
    const clstyle_json *x = *(const clstyle_json *const *)a;
    const clstyle_json *y = *(const clstyle_json *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int same_key(const clstyle_json *x, const clstyle_json *y)
{
    return x->key_len == y->key_len && memcmp(x->key, y->key, x->key_len) == 0;
}

/* Sorts the members of obj (into tmp) and returns a later duplicate or NULL. */
static const clstyle_json *object_duplicate(const clstyle_json *obj, const clstyle_json **tmp)
{
    size_t n = 0;
    for (const clstyle_json *m = obj->child; m; m = m->next) tmp[n++] = m;
    qsort(tmp, n, sizeof *tmp, key_cmp);
    for (size_t i = 1; i < n; i++)
        if (same_key(tmp[i - 1], tmp[i])) return tmp[i];
    return NULL;
}

clstyle_status clstyle_json_find_duplicate(const clstyle_json_doc *doc, const clstyle_json **dup)
{
    *dup = NULL;
    size_t most = 0;
    for (size_t i = 0; i < doc->count; i++)
        if (doc->nodes[i].type == CLSTYLE_JSON_OBJECT && doc->nodes[i].count > most)
            most = doc->nodes[i].count;
    if (most < 2) return CLSTYLE_OK;
    const clstyle_json **tmp = malloc(most * sizeof *tmp);
    if (!tmp) return CLSTYLE_ERR_INTERNAL;
    for (size_t i = 0; i < doc->count && !*dup; i++)
        if (doc->nodes[i].type == CLSTYLE_JSON_OBJECT && doc->nodes[i].count > 1)
            *dup = object_duplicate(&doc->nodes[i], tmp);
    free(tmp);
    return CLSTYLE_OK;
}

const clstyle_json *clstyle_json_get(const clstyle_json *obj, const char *key)
{
    if (!obj || obj->type != CLSTYLE_JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (const clstyle_json *m = obj->child; m; m = m->next)
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return m;
    return NULL;
}

int clstyle_json_u64(const clstyle_json *v, uint64_t *out)
{
    if (!v || v->type != CLSTYLE_JSON_NUMBER || !v->is_int || v->int_overflow) return 0;
    if (v->negative && v->magnitude != 0) return 0;
    *out = v->magnitude;
    return 1;
}

int clstyle_json_i64(const clstyle_json *v, int64_t *out)
{
    if (!v || v->type != CLSTYLE_JSON_NUMBER || !v->is_int || v->int_overflow) return 0;
    uint64_t limit = (uint64_t)INT64_MAX + (v->negative ? 1u : 0u);
    if (v->magnitude > limit) return 0;
    if (!v->negative) *out = (int64_t)v->magnitude;
    else if (v->magnitude == (uint64_t)INT64_MAX + 1) *out = INT64_MIN;
    else *out = -(int64_t)v->magnitude;
    return 1;
}

void clstyle_json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    size_t n = strlen(s);
    while (n) {
        size_t ok = clstyle_utf8_check(s, n); /* bytes that are not UTF-8 (a Latin-1 name) become U+FFFD */
        for (size_t i = 0; i < ok; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
            else if (c < 0x20) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
        }
        s += ok;
        n -= ok;
        if (n) {
            fputs("\\ufffd", f);
            s++;
            n--;
        }
    }
    fputc('"', f);
}
