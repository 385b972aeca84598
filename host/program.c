/* Kernel sources (embedded by CMake or read from CLSTYLE_KERNEL_DIR), program builds
 * with the device's build log on failure, and a binary cache keyed by source hash,
 * build options, device name and driver version. A corrupt or stale cache entry is
 * ignored and rebuilt. */
#include "program.h"

#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fileio.h"
#include "hash.h"

struct clstyle_embedded {
    const char *name;
    const char *data;
    size_t len;
};
extern const struct clstyle_embedded clstyle_embedded_kernels[];

#define CACHE_MAGIC "CLSTYLEB"
#define CACHE_FORMAT 1u
#define BUILD_BASE_OPTIONS "-cl-std=CL1.2"

const char *clstyle_program_file(int i)
{
    for (int k = 0; clstyle_embedded_kernels[k].name; k++) {
        if (!strcmp(clstyle_embedded_kernels[k].name, CLSTYLE_KERNEL_HEADER)) continue;
        if (i-- == 0) return clstyle_embedded_kernels[k].name;
    }
    return NULL;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return (mkdir(buf, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}

void clstyle_program_cache_init(clstyle_ctx *ctx)
{
    ctx->cache_dir[0] = '\0';
    if (ctx->cfg.no_cache) return;
    snprintf(ctx->cache_dir, sizeof ctx->cache_dir, "%s", ctx->cfg.cache_dir);
    if (!ctx->cache_dir[0]) return;
    const char *why = NULL, *is = "is ";
    struct stat sb;
    if (mkdir_p(ctx->cache_dir) != 0) why = strerror(errno), is = "cannot be created: ";
    else if (stat(ctx->cache_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) why = "not a folder";
    else if (sb.st_uid != geteuid()) why = "owned by another user";
    else if (sb.st_mode & (S_IWGRP | S_IWOTH)) why = "writable by group or others";
    if (!why) return;
    /* someone else could plant binaries or tuning choices there: run without it */
    snprintf(ctx->notice, sizeof ctx->notice,
             "cache %s %s%s: not used (kernels are compiled afresh, tuning is not kept)", ctx->cache_dir, is, why);
    ctx->cache_dir[0] = '\0';
}

/* Raw text of `file` (malloc'd): from the override folder when from_dir, else embedded. */
static clstyle_status load_raw(clstyle_ctx *ctx, const char *file, int from_dir, char **src, size_t *len,
                               clstyle_error *err)
{
    if (!from_dir) {
        for (int i = 0; clstyle_embedded_kernels[i].name; i++) {
            if (strcmp(clstyle_embedded_kernels[i].name, file) != 0) continue;
            *len = clstyle_embedded_kernels[i].len;
            *src = malloc(*len + 1);
            if (!*src) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
            memcpy(*src, clstyle_embedded_kernels[i].data, *len);
            (*src)[*len] = '\0';
            return CLSTYLE_OK;
        }
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "kernel file %s is not embedded", file);
    }
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", ctx->cfg.kernel_dir, file);
    FILE *f;
    clstyle_status st = clstyle_input_fopen(path, "kernel file (CLSTYLE_KERNEL_DIR)", 0, &f, err);
    if (st) return st;
    *src = NULL;
    if (fseek(f, 0, SEEK_END) != 0) goto ioerr;
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) goto ioerr;
    *src = malloc((size_t)n + 1);
    if (!*src) {
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
        goto done;
    }
    if (fread(*src, 1, (size_t)n, f) != (size_t)n) goto ioerr;
    (*src)[n] = '\0';
    *len = (size_t)n;
    goto done;
ioerr:
    st = clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot read kernel file %s", path);
    free(*src);
    *src = NULL;
done:
    fclose(f);
    return st;
}

/* Source text of `file` as compiled (malloc'd): the header (cl/common.cl; from the
 * override folder when it has one, else the embedded one), a #line 1, then the file. */
static clstyle_status load_source(clstyle_ctx *ctx, const char *file, char **src, size_t *len,
                                  clstyle_error *err)
{
    char *head = NULL, *body = NULL;
    size_t hl = 0, bl = 0;
    static const char sep[] = "\n#line 1\n";
    int dir = ctx->cfg.kernel_dir[0] != '\0';
    char hpath[8192];
    snprintf(hpath, sizeof hpath, "%s/%s", ctx->cfg.kernel_dir, CLSTYLE_KERNEL_HEADER);
    struct stat sb;
    clstyle_status st = load_raw(ctx, CLSTYLE_KERNEL_HEADER, dir && stat(hpath, &sb) == 0, &head, &hl, err);
    if (!st) st = load_raw(ctx, file, dir, &body, &bl, err);
    if (!st && !(*src = malloc(hl + sizeof sep - 1 + bl + 1)))
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    if (!st) {
        memcpy(*src, head, hl);
        memcpy(*src + hl, sep, sizeof sep - 1);
        memcpy(*src + hl + sizeof sep - 1, body, bl + 1);
        *len = hl + sizeof sep - 1 + bl;
    }
    free(head);
    free(body);
    return st;
}

static void cache_key(clstyle_ctx *ctx, const char *src, size_t len, const char *options, char *key,
                      size_t keylen, uint64_t *hash)
{
    uint64_t h = clstyle_hash(CLSTYLE_HASH_INIT, src, len);
    snprintf(key, keylen, "clstyle %s|src %016llx|opt %s %s|dev %s|drv %s|plat %s", CLSTYLE_VERSION,
             (unsigned long long)h, BUILD_BASE_OPTIONS, options, ctx->dev.name, ctx->dev.driver,
             ctx->dev.platform_name);
    *hash = clstyle_hash(CLSTYLE_HASH_INIT, key, strlen(key));
}

uint64_t clstyle_program_key(clstyle_ctx *ctx, const char *file)
{
    char *src = NULL, key[8192];
    size_t len = 0;
    uint64_t hash;
    clstyle_error e;
    if (load_source(ctx, file, &src, &len, &e)) return 0;
    cache_key(ctx, src, len, "", key, sizeof key, &hash);
    free(src);
    return hash;
}

static void cache_path(clstyle_ctx *ctx, uint64_t hash, char *path, size_t len)
{
    snprintf(path, len, "%s/%016llx.bin", ctx->cache_dir, (unsigned long long)hash);
}

/* Reads a cache entry: magic, format, key length + key, binary length + binary, checksum.
 * Returns a malloc'd binary only if every field checks out. */
static unsigned char *cache_read(const char *path, const char *key, size_t *binlen)
{
    FILE *f;
    clstyle_error ignored;
    if (clstyle_input_fopen(path, NULL, 1, &f, &ignored)) return NULL; /* a miss, a link or not a file */
    unsigned char *bin = NULL;
    char magic[8];
    uint32_t fmt = 0, klen = 0;
    uint64_t blen = 0, sum = 0;
    char kbuf[2048];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, CACHE_MAGIC, 8) != 0) goto bad;
    if (fread(&fmt, 4, 1, f) != 1 || fmt != CACHE_FORMAT) goto bad;
    if (fread(&klen, 4, 1, f) != 1 || klen != strlen(key) || klen >= sizeof kbuf) goto bad;
    if (fread(kbuf, 1, klen, f) != klen || memcmp(kbuf, key, klen) != 0) goto bad;
    if (fread(&blen, 8, 1, f) != 1 || blen == 0 || blen > (1ull << 31)) goto bad;
    bin = malloc((size_t)blen);
    if (!bin || fread(bin, 1, (size_t)blen, f) != blen) goto bad;
    if (fread(&sum, 8, 1, f) != 1 || sum != clstyle_hash(CLSTYLE_HASH_INIT, bin, (size_t)blen)) goto bad;
    fclose(f);
    *binlen = (size_t)blen;
    return bin;
bad:
    free(bin);
    fclose(f);
    return NULL;
}

/* Cache writes one at a time: the band threads of several devices (host/bands.c) may
 * build the same program at once, and the atomic writer's signal cleanup remembers one
 * temp file. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void cache_write_locked(clstyle_ctx *ctx, cl_program prog, const char *path, const char *key);

static void cache_write(clstyle_ctx *ctx, cl_program prog, const char *path, const char *key)
{
    pthread_mutex_lock(&cache_lock);
    cache_write_locked(ctx, prog, path, key);
    pthread_mutex_unlock(&cache_lock);
}

static void cache_write_locked(clstyle_ctx *ctx, cl_program prog, const char *path, const char *key)
{
    size_t blen = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof blen, &blen, NULL) != CL_SUCCESS || !blen)
        return;
    unsigned char *bin = malloc(blen);
    if (!bin) return;
    unsigned char *bins[1] = {bin};
    clstyle_atomic_file af;
    clstyle_error ignored;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) != CL_SUCCESS) goto out;
    if (clstyle_atomic_open(&af, path, &ignored) != CLSTYLE_OK) goto out;
    uint32_t fmt = CACHE_FORMAT, klen = (uint32_t)strlen(key);
    uint64_t b64 = blen, sum = clstyle_hash(CLSTYLE_HASH_INIT, bin, blen);
    if (clstyle_atomic_write(&af, CACHE_MAGIC, 8, &ignored) || clstyle_atomic_write(&af, &fmt, 4, &ignored) ||
        clstyle_atomic_write(&af, &klen, 4, &ignored) || clstyle_atomic_write(&af, key, klen, &ignored) ||
        clstyle_atomic_write(&af, &b64, 8, &ignored) || clstyle_atomic_write(&af, bin, blen, &ignored) ||
        clstyle_atomic_write(&af, &sum, 8, &ignored)) {
        clstyle_atomic_abort(&af);
        goto out;
    }
    clstyle_atomic_commit(&af, &ignored); /* a cache that cannot be written is only slower */
out:
    free(bin);
}

static clstyle_status build_failed(clstyle_ctx *ctx, cl_program prog, const char *file,
                                   const char *options, cl_int rc, clstyle_error *err)
{
    size_t len = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(prog, ctx->dev.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) == CL_SUCCESS &&
        len > 0 && (log = malloc(len + 1)) != NULL) {
        if (clGetProgramBuildInfo(prog, ctx->dev.device, CL_PROGRAM_BUILD_LOG, len, log, NULL) != CL_SUCCESS)
            log[0] = '\0';
        log[len] = '\0';
    }
    clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "building kernel file %s%s%s for %s failed (%s), options '%s%s%s'; build log:",
                    ctx->cfg.kernel_dir[0] ? ctx->cfg.kernel_dir : "cl", "/", file, ctx->dev.name,
                    clstyle_cl_error_name(rc), BUILD_BASE_OPTIONS, *options ? " " : "", options);
    /* the one message with lines after the first: the compiler's own log, as it is */
    size_t at = strlen(err->msg);
    snprintf(err->msg + at, sizeof err->msg - at, "\n%s", log ? log : "(none)");
    free(log);
    return CLSTYLE_ERR_INTERNAL;
}

static cl_program try_binary(clstyle_ctx *ctx, const unsigned char *bin, size_t blen,
                             const char *opts)
{
    cl_int rc, binst;
    cl_program p = clCreateProgramWithBinary(ctx->context, 1, &ctx->dev.device, &blen, &bin, &binst, &rc);
    if (rc != CL_SUCCESS || binst != CL_SUCCESS) {
        if (p) clReleaseProgram(p);
        return NULL;
    }
    if (clBuildProgram(p, 1, &ctx->dev.device, opts, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(p);
        return NULL;
    }
    return p;
}

clstyle_status clstyle_program_build(clstyle_ctx *ctx, const char *file, const char *options,
                                     cl_program *out, clstyle_error *err)
{
    double t0 = clstyle_now();
    char *src = NULL;
    size_t len = 0;
    clstyle_status st = load_source(ctx, file, &src, &len, err);
    if (st) return st;
    char key[2048], path[4200], opts[1024];
    uint64_t hash;
    cache_key(ctx, src, len, options, key, sizeof key, &hash);
    snprintf(opts, sizeof opts, "%s%s%s", BUILD_BASE_OPTIONS, *options ? " " : "", options);
    *out = NULL;
    if (ctx->cache_dir[0]) {
        cache_path(ctx, hash, path, sizeof path);
        size_t blen = 0;
        unsigned char *bin = cache_read(path, key, &blen);
        if (bin) {
            *out = try_binary(ctx, bin, blen, opts);
            free(bin);
        }
        if (*out) ctx->compile.cache_hits++;
        else ctx->compile.cache_misses++;
    }
    if (!*out) {
        cl_int rc;
        const char *srcs[1] = {src};
        cl_program p = clCreateProgramWithSource(ctx->context, 1, srcs, &len, &rc);
        if (rc != CL_SUCCESS) {
            st = clstyle_ctx_clerr(ctx, err, rc, "clCreateProgramWithSource");
            goto done;
        }
        rc = clBuildProgram(p, 1, &ctx->dev.device, opts, NULL, NULL);
        ctx->compile.builds++;
        if (rc != CL_SUCCESS) {
            st = build_failed(ctx, p, file, options, rc, err);
            clReleaseProgram(p);
            goto done;
        }
        if (ctx->cache_dir[0]) cache_write(ctx, p, path, key);
        *out = p;
    }
done:
    free(src);
    ctx->compile.seconds += clstyle_now() - t0;
    return st;
}
