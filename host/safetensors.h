/* Safetensors weight files: a strict reader (mmap, every header field validated
 * before use) and an atomic F32 writer for tests and checkpoints.
 * Format: u64 little-endian header length N, N bytes of JSON, then the data section. */
#ifndef CLSTYLE_SAFETENSORS_H
#define CLSTYLE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CLSTYLE_ST_MAX_DIMS 8
#define CLSTYLE_ST_MAX_HEADER 100000000u /* header cap in bytes, as the reference parser */
#define CLSTYLE_ST_MAX_VALUES 1000000u   /* JSON values in a header (~140 MB of parser nodes) */

typedef enum clstyle_dtype {
    CLSTYLE_DTYPE_F32,
    CLSTYLE_DTYPE_F16,
    CLSTYLE_DTYPE_BF16,
    CLSTYLE_DTYPE_F64,
    CLSTYLE_DTYPE_I64,
    CLSTYLE_DTYPE_I32,
    CLSTYLE_DTYPE_I16,
    CLSTYLE_DTYPE_I8,
    CLSTYLE_DTYPE_U8,
    CLSTYLE_DTYPE_BOOL,
    CLSTYLE_DTYPE_U16,
    CLSTYLE_DTYPE_U32,
    CLSTYLE_DTYPE_U64,
    CLSTYLE_DTYPE_F8_E4M3,
    CLSTYLE_DTYPE_F8_E5M2,
    CLSTYLE_DTYPE_COUNT
} clstyle_dtype;

/* "F32", "BF16", ... as spelled in safetensors headers. */
const char *clstyle_dtype_name(clstyle_dtype d);
/* Bytes per element. */
size_t clstyle_dtype_size(clstyle_dtype d);

typedef struct clstyle_st_tensor {
    char *name;                       /* UTF-8, never contains NUL */
    clstyle_dtype dtype;
    int ndim;                         /* 0 (scalar) .. CLSTYLE_ST_MAX_DIMS */
    int64_t shape[CLSTYLE_ST_MAX_DIMS]; /* unused entries are 0 */
    uint64_t begin, end;              /* byte range relative to the data section */
} clstyle_st_tensor;

typedef struct clstyle_st_meta_kv {
    char *key;
    char *value;
} clstyle_st_meta_kv;

typedef struct clstyle_st_file {
    char *path;                   /* name used in messages */
    const uint8_t *base;          /* whole file: mapping or the caller's buffer */
    size_t size;                  /* bytes at base */
    uint64_t header_len;          /* N */
    const uint8_t *data;          /* base + 8 + N: data section, any alignment */
    uint64_t data_size;           /* size - 8 - N; exactly covered by the tensors */
    clstyle_st_tensor *tensors;   /* sorted by begin (file order) */
    int count;
    clstyle_st_meta_kv *meta;     /* __metadata__ in header order */
    int meta_count;
    void *map;                    /* private: mapping owned by clstyle_st_open */
    size_t map_len;
} clstyle_st_file;

/* Maps and validates path. Missing or unreadable: CLSTYLE_ERR_NOINPUT; any malformed
 * header or layout: CLSTYLE_ERR_DATA, one line naming the file (and the tensor).
 * The file must not be truncated while open (the mapping would fault). On failure f
 * is left closed; clstyle_st_close is safe either way. */
clstyle_status clstyle_st_open(const char *path, clstyle_st_file *f, clstyle_error *err);
/* The same validation on a buffer already in memory (fuzzing, embedded weights). buf
 * must stay valid until clstyle_st_close; name is used in messages. */
clstyle_status clstyle_st_parse_buffer(const void *buf, size_t len, const char *name,
                                       clstyle_st_file *f, clstyle_error *err);
void clstyle_st_close(clstyle_st_file *f);

/* Tensor named name, or NULL. */
const clstyle_st_tensor *clstyle_st_find(const clstyle_st_file *f, const char *name);
/* __metadata__ value for key, or NULL. */
const char *clstyle_st_meta(const clstyle_st_file *f, const char *key);
/* Product of the shape (1 for a scalar); fits size_t after a successful open. */
size_t clstyle_st_numel(const clstyle_st_tensor *t);

/* Converts t (F32, F16 or BF16) into dst[numel]. Other dtypes: CLSTYLE_ERR_DATA naming
 * the tensor and its dtype. A NaN or Inf: CLSTYLE_ERR_DATA naming the tensor and the
 * element (dst is then partly written). Reads bytes little-endian, never through an
 * unaligned pointer cast. */
clstyle_status clstyle_st_read_f32(const clstyle_st_file *f, const clstyle_st_tensor *t,
                                   float *dst, clstyle_error *err);

/* IEEE half and bfloat16 bit patterns to float, exact (subnormals, signed zero, Inf,
 * NaN preserved). */
float clstyle_f16_to_f32(uint16_t h);
float clstyle_bf16_to_f32(uint16_t b);

/* One tensor to write: float32 data of shape[0..ndim-1], row-major. */
typedef struct clstyle_st_out {
    const char *name;
    const float *data;
    int ndim;
    int64_t shape[CLSTYLE_ST_MAX_DIMS];
} clstyle_st_out;

/* Writes n F32 tensors (in this order, contiguous) and optional string metadata
 * (meta_kv: key, value, key, value, ..., NULL; or NULL for none) to path atomically
 * (host/fileio.h). The data section starts 8-byte aligned (header padded with spaces).
 * Values are written as given (no NaN check). Invalid arguments (NULL, duplicate,
 * non-UTF-8 or "__metadata__" names, bad shapes, NULL data): CLSTYLE_ERR_INTERNAL; cannot create:
 * CLSTYLE_ERR_CANTCREAT; write failure: CLSTYLE_ERR_IO. */
clstyle_status clstyle_st_write(const char *path, const clstyle_st_out *tensors, int n,
                                const char *const *meta_kv, clstyle_error *err);
/* The same, followed by one more tensor CLSTYLE_ST_CHECKSUM (U8, shape [8]) as the last
 * 8 bytes of the file: FNV-1a 64 (host/hash.h, little-endian) of every byte before it. */
#define CLSTYLE_ST_CHECKSUM "clstyle.checksum"
clstyle_status clstyle_st_write_checked(const char *path, const clstyle_st_out *tensors, int n,
                                        const char *const *meta_kv, clstyle_error *err);
/* Checks a file written by clstyle_st_write_checked: its checksum tensor is the last 8
 * bytes and matches every byte before it. Otherwise CLSTYLE_ERR_DATA ("what PATH is
 * corrupt (...)"). */
clstyle_status clstyle_st_verify(const clstyle_st_file *f, const char *what, clstyle_error *err);

#endif
