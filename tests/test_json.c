/* JSON parser edge cases: escapes and UTF-8, integer limits, grammar errors with their
 * byte offsets, the nesting cap, the value cap and duplicate-key detection. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testutil.h"

static clstyle_status parse(const char *s, clstyle_json_doc *doc, clstyle_json_error *je)
{
    return clstyle_json_parse(s, strlen(s), 0, doc, je);
}

/* Expects s to be rejected at byte offset at (or any offset when at is SIZE_MAX). */
static void reject(const char *s, size_t at, const char *why)
{
    clstyle_json_doc doc;
    clstyle_json_error je;
    clstyle_status st = parse(s, &doc, &je);
    CHECK(st == CLSTYLE_ERR_DATA, "'%s' accepted (%s)", s, why);
    CHECK(doc.nodes == NULL && doc.root == NULL, "doc not emptied after failure");
    if (st == CLSTYLE_ERR_DATA) {
        CHECK(je.reason != NULL, "no reason for '%s'", s);
        CHECK(at == SIZE_MAX || je.offset == at, "'%s' (%s): offset %zu, want %zu (%s)", s, why,
              je.offset, at, je.reason);
    }
    clstyle_json_free(&doc);
}

static void accept(const char *s)
{
    clstyle_json_doc doc;
    clstyle_json_error je = {0, NULL};
    CHECK(parse(s, &doc, &je) == CLSTYLE_OK, "'%s' rejected: %s at %zu", s,
          je.reason ? je.reason : "?", je.offset);
    clstyle_json_free(&doc);
}

static void test_structure(void)
{
    const char *s = " {\"a\": [1, -2, 3.5, true, false, null, \"x\"], \"b\": {}, \"c\": []} ";
    clstyle_json_doc doc;
    clstyle_json_error je;
    CHECK(parse(s, &doc, &je) == CLSTYLE_OK, "structure rejected");
    if (!doc.root) return;
    const clstyle_json *r = doc.root;
    CHECK(r->type == CLSTYLE_JSON_OBJECT && r->count == 3, "root");
    CHECK(r->offset == 1, "root offset %zu", r->offset);
    const clstyle_json *a = clstyle_json_get(r, "a");
    CHECK(a && a->type == CLSTYLE_JSON_ARRAY && a->count == 7, "a");
    CHECK(a && a->offset == 7, "a offset");
    if (a && a->count == 7) {
        const clstyle_json *e = a->child;
        uint64_t u;
        int64_t i;
        CHECK(clstyle_json_u64(e, &u) && u == 1, "a[0]");
        e = e->next;
        CHECK(!clstyle_json_u64(e, &u) && clstyle_json_i64(e, &i) && i == -2, "a[1]");
        e = e->next;
        CHECK(e->type == CLSTYLE_JSON_NUMBER && !e->is_int && e->num == 3.5, "a[2]");
        CHECK(!clstyle_json_u64(e, &u) && !clstyle_json_i64(e, &i), "3.5 is not an integer");
        e = e->next;
        CHECK(e->type == CLSTYLE_JSON_BOOL && e->boolean == 1, "a[3]");
        e = e->next;
        CHECK(e->type == CLSTYLE_JSON_BOOL && e->boolean == 0, "a[4]");
        e = e->next;
        CHECK(e->type == CLSTYLE_JSON_NULL, "a[5]");
        e = e->next;
        CHECK(e->type == CLSTYLE_JSON_STRING && strcmp(e->str, "x") == 0, "a[6]");
        CHECK(e->next == NULL, "a ends");
    }
    const clstyle_json *b = clstyle_json_get(r, "b"), *c = clstyle_json_get(r, "c");
    CHECK(b && b->type == CLSTYLE_JSON_OBJECT && b->count == 0 && !b->child, "b");
    CHECK(c && c->type == CLSTYLE_JSON_ARRAY && c->count == 0 && !c->child, "c");
    CHECK(clstyle_json_get(r, "d") == NULL, "no d");
    CHECK(clstyle_json_get(a, "a") == NULL, "get on an array");
    clstyle_json_free(&doc);

    accept("0");
    accept("\"\"");
    accept("[]");
    accept(" \t\r\n[ ]\n");
    accept("-0");
    accept("1E+2");
    accept("1e-2");
    accept("[[[]],[{}]]");
}

static void test_strings(void)
{
    const char *s = "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\", \"\\ud83d\\ude00\", "
                    "\"a\\u0000b\", \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]";
    clstyle_json_doc doc;
    clstyle_json_error je;
    CHECK(parse(s, &doc, &je) == CLSTYLE_OK, "strings rejected: %s at %zu", je.reason, je.offset);
    if (!doc.root) return;
    const clstyle_json *e = doc.root->child;
    CHECK(strcmp(e->str, "\"\\/\b\f\n\r\t") == 0 && e->str_len == 8, "simple escapes");
    e = e->next;
    CHECK(strcmp(e->str, "\xc3\xa9\xe2\x82\xac") == 0, "BMP escapes");
    e = e->next;
    CHECK(strcmp(e->str, "\xf0\x9f\x98\x80") == 0, "surrogate pair");
    e = e->next;
    CHECK(e->str_len == 3 && memcmp(e->str, "a\0b", 3) == 0, "\\u0000 kept with length");
    e = e->next;
    CHECK(strcmp(e->str, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0, "raw UTF-8 kept");
    clstyle_json_free(&doc);

    reject("\"abc", 0, "unterminated");
    reject("\"a\nb\"", 2, "raw newline");
    reject("\"a\x01\"", 2, "control char");
    reject("\"\\x\"", 1, "bad escape");
    reject("\"\\u12g4\"", 5, "bad hex");
    reject("\"\\u123\"", 6, "short \\u");
    reject("\"\\ud800\"", 1, "lone high surrogate");
    reject("\"\\ud800\\u0041\"", 1, "high surrogate + non-low");
    reject("\"\\udc00\"", 1, "lone low surrogate");
    reject("\"\xff\"", 1, "0xFF byte");
    reject("\"\xc0\xaf\"", 1, "overlong 2-byte");
    reject("\"\xe0\x80\xaf\"", 1, "overlong 3-byte");
    reject("\"\xed\xa0\x80\"", 1, "encoded surrogate");
    reject("\"\xf4\x90\x80\x80\"", 1, "above U+10FFFF");
    reject("\"\xe2\x82\"", 1, "truncated sequence");
    reject("\"\x80\"", 1, "stray continuation");
    reject("\xef\xbb\xbf[]", 0, "BOM");
}

static void test_numbers(void)
{
    const char *s = "[18446744073709551615, 18446744073709551616, 9223372036854775807, "
                    "-9223372036854775808, -9223372036854775809, 1e2, -0, 0.000001]";
    clstyle_json_doc doc;
    clstyle_json_error je;
    CHECK(parse(s, &doc, &je) == CLSTYLE_OK, "numbers rejected");
    if (!doc.root) return;
    const clstyle_json *e = doc.root->child;
    uint64_t u;
    int64_t i;
    CHECK(clstyle_json_u64(e, &u) && u == UINT64_MAX && !clstyle_json_i64(e, &i), "u64 max");
    e = e->next;
    CHECK(e->is_int && e->int_overflow && !clstyle_json_u64(e, &u) && !clstyle_json_i64(e, &i),
          "u64 max + 1 overflows");
    CHECK(fabs(e->num - 18446744073709551616.0) < 1e4, "overflowing integer still has a double");
    e = e->next;
    CHECK(clstyle_json_i64(e, &i) && i == INT64_MAX && clstyle_json_u64(e, &u), "i64 max");
    e = e->next;
    CHECK(clstyle_json_i64(e, &i) && i == INT64_MIN && !clstyle_json_u64(e, &u), "i64 min");
    e = e->next;
    CHECK(!clstyle_json_i64(e, &i) && !clstyle_json_u64(e, &u), "below i64 min");
    e = e->next;
    CHECK(!e->is_int && e->num == 100.0 && !clstyle_json_u64(e, &u), "1e2 is not an integer");
    e = e->next;
    CHECK(clstyle_json_i64(e, &i) && i == 0, "-0");
    e = e->next;
    CHECK(e->num == 0.000001, "small fraction");
    clstyle_json_free(&doc);

    reject("01", 0, "leading zero");
    reject("-", 1, "lone minus");
    reject("+1", 0, "plus sign");
    reject(".5", 0, "no integer part");
    reject("1.", 2, "no fraction digits");
    reject("1e", 2, "no exponent digits");
    reject("1e+", 3, "no exponent digits after sign");
    reject("1e999", 0, "out of range");
    reject("-1e999", 0, "negative out of range");
    reject("NaN", 0, "NaN literal");
    reject("Infinity", 0, "Infinity literal");
    reject("0x10", 1, "hex");
}

static void test_grammar(void)
{
    reject("", 0, "empty");
    reject("   ", 3, "only whitespace");
    reject("[1,]", 3, "trailing comma in array");
    reject("{\"a\":1,}", 7, "trailing comma in object");
    reject("[1 2]", 3, "missing comma");
    reject("{\"a\" 1}", 5, "missing colon");
    reject("{a:1}", 1, "unquoted key");
    reject("{1:1}", 1, "number key");
    reject("[1}", 2, "mismatched bracket");
    reject("{\"a\":1]", 6, "mismatched brace");
    reject("[", 1, "unclosed array");
    reject("{\"a\":", 5, "missing value");
    reject("1 2", 2, "two values");
    reject("[] x", 3, "trailing garbage");
    reject("tru", 0, "truncated literal");
    reject("nul", 0, "truncated null");
    reject("True", 0, "capitalised literal");
    reject("[\x0b]", 1, "vertical tab is not whitespace");
}

static void test_depth(void)
{
    size_t n = 100000;
    char *s = malloc(2 * n + 1);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    reject(s, CLSTYLE_JSON_MAX_DEPTH, "100000 nested arrays");
    /* exactly the cap is fine, one more is not */
    int d = CLSTYLE_JSON_MAX_DEPTH;
    memset(s, '[', (size_t)d);
    memset(s + d, ']', (size_t)d);
    s[2 * d] = '\0';
    accept(s);
    memset(s, '[', (size_t)d + 1);
    memset(s + d + 1, ']', (size_t)d + 1);
    s[2 * d + 2] = '\0';
    reject(s, (size_t)d, "65 levels");
    for (size_t i = 0; i < n / 5; i++) memcpy(s + 5 * i, "{\"a\":", 5);
    s[n] = '\0';
    reject(s, 5 * CLSTYLE_JSON_MAX_DEPTH, "deep objects");
    free(s);
}

static void test_limits_and_duplicates(void)
{
    clstyle_json_doc doc;
    clstyle_json_error je;
    const char *s = "[1,2,3,4]";
    CHECK(clstyle_json_parse(s, strlen(s), 5, &doc, &je) == CLSTYLE_OK, "5 values allowed");
    clstyle_json_free(&doc);
    CHECK(clstyle_json_parse(s, strlen(s), 4, &doc, &je) == CLSTYLE_ERR_DATA, "cap of 4 values");
    CHECK(je.reason && strstr(je.reason, "too many"), "cap reason");

    /* not NUL-terminated: parse a prefix of a longer buffer */
    CHECK(clstyle_json_parse("[1]xyz", 3, 0, &doc, &je) == CLSTYLE_OK, "length honoured");
    clstyle_json_free(&doc);
    CHECK(clstyle_json_parse("{}\0", 3, 0, &doc, &je) == CLSTYLE_ERR_DATA && je.offset == 2,
          "embedded NUL after the value");

    const clstyle_json *dup = (const clstyle_json *)1;
    s = "{\"a\":1,\"b\":{\"x\":1,\"y\":2,\"x\":3},\"c\":[{\"k\":1},{\"k\":2}]}";
    CHECK(parse(s, &doc, &je) == CLSTYLE_OK, "dup doc parses");
    CHECK(clstyle_json_find_duplicate(&doc, &dup) == CLSTYLE_OK, "dup search");
    CHECK(dup && strcmp(dup->key, "x") == 0 && dup->offset == (size_t)(strstr(s, "3}") - s),
          "nested duplicate found (second occurrence)");
    clstyle_json_free(&doc);

    s = "{\"a\":1,\"b\":{\"x\":1,\"y\":2},\"c\":[{\"k\":1},{\"k\":2}],\"a\\u0000\":1,\"\":2}";
    CHECK(parse(s, &doc, &je) == CLSTYLE_OK, "no-dup doc parses");
    CHECK(clstyle_json_find_duplicate(&doc, &dup) == CLSTYLE_OK && dup == NULL,
          "keys differing only after NUL are distinct");
    clstyle_json_free(&doc);

    s = "{\"\\u0061\":1,\"a\":2}";
    CHECK(parse(s, &doc, &je) == CLSTYLE_OK, "escaped dup parses");
    CHECK(clstyle_json_find_duplicate(&doc, &dup) == CLSTYLE_OK && dup && dup->offset == 16,
          "duplicate after unescaping");
    clstyle_json_free(&doc);
}

static void test_utf8_check(void)
{
    CHECK(clstyle_utf8_check("abc", 3) == 3, "ascii");
    CHECK(clstyle_utf8_check("a\xc3\xa9z", 4) == 4, "2-byte");
    CHECK(clstyle_utf8_check("ab\xc3", 3) == 2, "truncated at end");
    CHECK(clstyle_utf8_check("\xf0\x9f\x98\x80!", 5) == 5, "4-byte");
    CHECK(clstyle_utf8_check("a\xf8", 2) == 1, "invalid lead");
}

int main(void)
{
    test_structure();
    test_strings();
    test_numbers();
    test_grammar();
    test_depth();
    test_limits_and_duplicates();
    test_utf8_check();
    return tu_finish("test_json");
}
