/* libFuzzer harness for the safetensors reader and the JSON parser: parses the input
 * from memory (no filesystem), converts every small float tensor, and traps if an
 * error message is not one line or a parsed file breaks the layout invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "safetensors.h"

static void check_file(const clstyle_st_file *f)
{
    uint64_t pos = 0;
    for (int i = 0; i < f->count; i++) {
        const clstyle_st_tensor *t = &f->tensors[i];
        if (t->begin != pos || t->end < t->begin || t->end > f->data_size) __builtin_trap();
        if (clstyle_st_find(f, t->name) == NULL) __builtin_trap();
        pos = t->end;
        size_t n = clstyle_st_numel(t);
        if ((uint64_t)n * clstyle_dtype_size(t->dtype) != t->end - t->begin) __builtin_trap();
        if (n > (1u << 20)) continue;
        float *dst = malloc(n ? n * sizeof *dst : 1);
        if (!dst) continue;
        clstyle_error err;
        clstyle_err_clear(&err);
        if (clstyle_st_read_f32(f, t, dst, &err) != CLSTYLE_OK && strchr(err.msg, '\n'))
            __builtin_trap();
        free(dst);
    }
    if (pos != f->data_size) __builtin_trap();
    for (int i = 0; i < f->meta_count; i++)
        if (clstyle_st_meta(f, f->meta[i].key) == NULL) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clstyle_st_file f;
    clstyle_error err;
    clstyle_err_clear(&err);
    if (clstyle_st_parse_buffer(data, size, "fuzz", &f, &err) == CLSTYLE_OK) {
        check_file(&f);
        clstyle_st_close(&f);
    } else if (strchr(err.msg, '\n') || err.status == CLSTYLE_OK) {
        __builtin_trap();
    }

    /* The same bytes as a bare JSON document reach parser states the 8-byte prefix hides. */
    clstyle_json_doc doc;
    clstyle_json_error je;
    if (clstyle_json_parse(data, size, 100000, &doc, &je) == CLSTYLE_OK) {
        const clstyle_json *dup;
        if (clstyle_json_find_duplicate(&doc, &dup) != CLSTYLE_OK) __builtin_trap();
        clstyle_json_free(&doc);
    } else if (je.offset > size || !je.reason) {
        __builtin_trap();
    }
    return 0;
}
