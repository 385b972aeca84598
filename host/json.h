/* Strict JSON (RFC 8259) parser for safetensors headers: parses a byte buffer into a
 * flat array of nodes linked as a tree. Iterative with a depth cap, validates UTF-8,
 * detects integer overflow and duplicate object keys. No global state; one printer, for
 * strings. */
#ifndef CLSTYLE_JSON_H
#define CLSTYLE_JSON_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "clstyle.h"

#define CLSTYLE_JSON_MAX_DEPTH 64 /* arrays/objects nested deeper are rejected */

typedef enum clstyle_json_type {
    CLSTYLE_JSON_NULL,
    CLSTYLE_JSON_BOOL,
    CLSTYLE_JSON_NUMBER,
    CLSTYLE_JSON_STRING,
    CLSTYLE_JSON_ARRAY,
    CLSTYLE_JSON_OBJECT
} clstyle_json_type;

/* One value. Object members carry their key; children and siblings are linked. */
typedef struct clstyle_json {
    clstyle_json_type type;
    size_t offset;                /* byte offset of the value in the input */
    const char *key;              /* object member: decoded key (NUL-terminated), else NULL */
    size_t key_len;               /* key length in bytes (a key may contain \u0000) */
    int boolean;                  /* BOOL: 0 or 1 */
    const char *str;              /* STRING: decoded UTF-8, NUL-terminated */
    size_t str_len;               /* STRING: length in bytes (may contain \u0000) */
    double num;                   /* NUMBER: value as a double (always finite) */
    int is_int;                   /* NUMBER: literal has no fraction and no exponent */
    int negative;                 /* NUMBER, is_int: literal starts with '-' */
    int int_overflow;             /* NUMBER, is_int: magnitude above UINT64_MAX */
    uint64_t magnitude;           /* NUMBER, is_int, !int_overflow: |value| */
    size_t count;                 /* ARRAY/OBJECT: number of children */
    const struct clstyle_json *child; /* ARRAY/OBJECT: first child, NULL if empty */
    const struct clstyle_json *next;  /* next sibling in the parent, NULL if last */
} clstyle_json;

/* A parsed document. nodes[0] is the root; strings holds every decoded string. */
typedef struct clstyle_json_doc {
    clstyle_json *nodes;
    size_t count;
    char *strings;
    const clstyle_json *root;
} clstyle_json_doc;

/* Where and why parsing failed. reason is a static string. */
typedef struct clstyle_json_error {
    size_t offset;
    const char *reason;
} clstyle_json_error;

/* Parses len bytes of text (need not be NUL-terminated) into doc. max_values caps the
 * number of values (0: no cap) so a hostile input cannot demand unbounded memory.
 * Returns CLSTYLE_OK, CLSTYLE_ERR_DATA (jerr says where and why) or
 * CLSTYLE_ERR_INTERNAL (out of memory). On failure doc is left empty.
 * Numbers go through strtod: LC_NUMERIC must be "C" (the library never changes it). */
clstyle_status clstyle_json_parse(const void *text, size_t len, size_t max_values,
                                  clstyle_json_doc *doc, clstyle_json_error *jerr);
void clstyle_json_free(clstyle_json_doc *doc);

/* Finds a key that occurs twice in any object of doc: *dup is its second occurrence,
 * or NULL when every object's keys are unique. CLSTYLE_ERR_INTERNAL on out of memory. */
clstyle_status clstyle_json_find_duplicate(const clstyle_json_doc *doc, const clstyle_json **dup);

/* First member of obj whose key equals key (a C string), or NULL. */
const clstyle_json *clstyle_json_get(const clstyle_json *obj, const char *key);

/* 1 and *out set when v is an integer literal that fits the type, else 0. */
int clstyle_json_u64(const clstyle_json *v, uint64_t *out);
int clstyle_json_i64(const clstyle_json *v, int64_t *out);

/* Offset of the first byte that is not part of well-formed UTF-8 (no overlong forms,
 * no surrogates, at most U+10FFFF), or len when all of s is valid. */
size_t clstyle_utf8_check(const void *s, size_t len);

/* Writes s as a JSON string (quotes; ", \\ and control characters escaped, bytes that are
 * not UTF-8 as U+FFFD) to f: the
 * one JSON writer (devices --json, bench --json). */
void clstyle_json_write_string(FILE *f, const char *s);

#endif
