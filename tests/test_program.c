/* Program building on the default device: the binary cache (miss then hit, corrupt or
 * stale entries rebuilt and rewritten, CLSTYLE_NO_CACHE, one entry per build options)
 * and CLSTYLE_KERNEL_DIR (sources really loaded from it, missing file, build-log errors). */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctx.h"
#include "ops/ops.h"
#include "testutil.h"

#define N 257 /* not a multiple of any work-group size */

static char root[4096];      /* this test's temp dir */
static char cache_home[4200]; /* XDG_CACHE_HOME for the whole test */
static char cache_dir[4300];  /* cache_home/clstyle */

static clstyle_ctx *open_ctx(void)
{
    clstyle_ctx *ctx = NULL;
    clstyle_error e = {0};
    clstyle_status st = clstyle_ctx_create(&ctx, NULL, NULL, 0, &e);
    CHECK(st == CLSTYLE_OK && ctx, "clstyle_ctx_create: %s", e.msg);
    return st ? NULL : ctx;
}

/* Files in dir: how many end in ".bin" (name of the last in `bin`), and how many in all. */
static int count_files(const char *dir, int *all, char *bin, size_t binlen)
{
    int nbin = 0;
    *all = 0;
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.') continue;
        (*all)++;
        size_t l = strlen(ent->d_name);
        if (l > 4 && !strcmp(ent->d_name + l - 4, ".bin")) {
            nbin++;
            if (bin) snprintf(bin, binlen, "%s/%s", dir, ent->d_name);
        }
    }
    closedir(d);
    return nbin;
}

static int nbins(void)
{
    int all;
    return count_files(cache_dir, &all, NULL, 0);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                buf[n] = '\0';
                *len = (size_t)n;
            }
        }
    }
    fclose(f);
    return buf;
}

/* Runs relu_forward (through the op, i.e. relu.cl with default options) on -1..+1. */
static int run_relu(clstyle_ctx *ctx, float *x, float *y, clstyle_error *e)
{
    for (int i = 0; i < N; i++) x[i] = (float)(i - N / 2) / (N / 2);
    cl_mem d = NULL;
    clstyle_status st;
    if (!(st = clstyle_ctx_alloc(ctx, sizeof(float) * N, "relu test", &d, e)) &&
        !(st = clstyle_ctx_write(ctx, d, 0, sizeof(float) * N, x, e))) {
        clstyle_tensor t = clstyle_tensor_view(d, 0, 1, 1, N);
        if (!(st = clstyle_relu_forward(ctx, t, t, e))) st = clstyle_ctx_read(ctx, d, 0, sizeof(float) * N, y, e);
    }
    clstyle_ctx_release(ctx, &d);
    return st;
}

/* relu_forward gives exactly max(x, 0). */
static void check_relu_works(clstyle_ctx *ctx, const char *when)
{
    float x[N], y[N];
    clstyle_error e = {0};
    clstyle_status st = run_relu(ctx, x, y, &e);
    CHECK(st == CLSTYLE_OK, "%s: relu_forward: %s", when, e.msg);
    if (st) return;
    int bad = 0;
    for (int i = 0; i < N; i++) bad += y[i] != (x[i] > 0 ? x[i] : 0.0f);
    CHECK(bad == 0, "%s: relu_forward wrong at %d of %d points", when, bad, N);
}

/* A fresh context that loads relu.cl once; checks the compile counters and the result. */
static void relu_ctx(int hits, int misses, int builds, const char *when)
{
    clstyle_ctx *ctx = open_ctx();
    if (!ctx) return;
    cl_kernel k = NULL;
    clstyle_error e = {0};
    CHECK(clstyle_ctx_kernel(ctx, "relu.cl", "", "relu_forward", &k, &e) == CLSTYLE_OK && k, "%s: %s", when,
          e.msg);
    CHECK(ctx->compile.cache_hits == hits && ctx->compile.cache_misses == misses && ctx->compile.builds == builds,
          "%s: %d hits, %d misses, %d builds; want %d, %d, %d", when, ctx->compile.cache_hits,
          ctx->compile.cache_misses, ctx->compile.builds, hits, misses, builds);
    clstyle_compile_stats before = ctx->compile;
    check_relu_works(ctx, when);
    CHECK(ctx->compile.cache_hits == before.cache_hits && ctx->compile.cache_misses == before.cache_misses &&
              ctx->compile.builds == before.builds,
          "%s: running the kernel compiled again", when);
    clstyle_ctx_free(ctx);
}

static void test_miss_then_hit(void)
{
    clstyle_ctx *ctx = open_ctx();
    if (!ctx) return;
    CHECK(!strcmp(ctx->cache_dir, cache_dir), "cache dir '%s', want '%s'", ctx->cache_dir, cache_dir);
    CHECK(ctx->cfg.kernel_dir[0] == '\0', "kernel dir '%s' with CLSTYLE_KERNEL_DIR unset", ctx->cfg.kernel_dir);
    CHECK(ctx->compile.cache_hits + ctx->compile.cache_misses + ctx->compile.builds == 0,
          "creating a context compiled something");
    CHECK(nbins() == 0, "cache not empty before the first build");
    cl_kernel k1 = NULL, k2 = NULL;
    clstyle_error e = {0};
    CHECK(clstyle_ctx_kernel(ctx, "relu.cl", "", "relu_forward", &k1, &e) == CLSTYLE_OK, "%s", e.msg);
    CHECK(ctx->compile.cache_misses == 1 && ctx->compile.builds == 1 && ctx->compile.cache_hits == 0,
          "first load: %d hits, %d misses, %d builds", ctx->compile.cache_hits, ctx->compile.cache_misses,
          ctx->compile.builds);
    /* same program, second kernel: no new build, no cache lookup */
    CHECK(clstyle_ctx_kernel(ctx, "relu.cl", NULL, "relu_backward", &k2, &e) == CLSTYLE_OK && k2 && k2 != k1,
          "%s", e.msg);
    CHECK(ctx->compile.builds == 1 && ctx->compile.cache_misses == 1, "second kernel of relu.cl rebuilt it");
    int all;
    CHECK(count_files(cache_dir, &all, NULL, 0) == 1 && all == 1, "want exactly one cache file, found %d", all);
    clstyle_ctx_free(ctx);

    relu_ctx(1, 0, 0, "second context");
}

/* The cache's checksum (64-bit FNV-1a), to forge an entry that passes it. */
static uint64_t fnv1a(const unsigned char *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Replaces the cache entry with `data`, then a context must miss, rebuild, work, and
 * rewrite the entry so that the next context hits. */
static void corrupt_and_rebuild(const char *path, const void *data, size_t len, const char *what)
{
    char when[128];
    CHECK(tu_write_file(path, data, len) == 0, "cannot write %s", path);
    snprintf(when, sizeof when, "%s entry", what);
    relu_ctx(0, 1, 1, when);
    snprintf(when, sizeof when, "after the %s entry was rewritten", what);
    relu_ctx(1, 0, 0, when);
    CHECK(nbins() == 1, "%s: %d cache files, want 1", what, nbins());
}

static void test_corrupt(void)
{
    char path[4400];
    int all;
    if (count_files(cache_dir, &all, path, sizeof path) != 1) {
        CHECK(0, "no single cache entry to corrupt");
        return;
    }
    size_t len = 0;
    unsigned char *good = read_all(path, &len);
    CHECK(good && len > 64, "cannot read cache entry %s", path);
    if (!good || len <= 64) return;
    unsigned char *bad = malloc(len);
    if (!bad) return;

    corrupt_and_rebuild(path, good, len / 2, "truncated");
    corrupt_and_rebuild(path, good, 7, "shorter than its magic");
    corrupt_and_rebuild(path, "", 0, "empty");

    /* layout: magic[8] format u32 keylen u32 key binlen u64 binary checksum u64 */
    uint32_t klen;
    memcpy(&klen, good + 12, 4);
    size_t bin_at = 16 + (size_t)klen + 8;
    CHECK(bin_at + 8 < len, "key length %u does not fit the %zu-byte entry", klen, len);
    if (bin_at + 8 < len) {
        memcpy(bad, good, len);
        size_t mid = bin_at + (len - 8 - bin_at) / 2;
        for (size_t i = mid; i < mid + 16 && i < len - 8; i++) bad[i] ^= 0x5a;
        corrupt_and_rebuild(path, bad, len, "bit-flipped binary");

        /* a stale entry: another key (e.g. an older driver) in a well-formed file */
        memcpy(bad, good, len);
        bad[16 + klen - 1] ^= 0x01;
        corrupt_and_rebuild(path, bad, len, "stale key");

        memcpy(bad, good, len);
        bad[len - 1] ^= 0xff;
        corrupt_and_rebuild(path, bad, len, "bad checksum");

        memcpy(bad, good, len);
        bad[8] ^= 0x02;
        corrupt_and_rebuild(path, bad, len, "unknown format");

        /* well-formed, checksum right, but a binary the driver rejects (e.g. a driver
         * update that kept its version string) */
        memcpy(bad, good, len);
        for (size_t i = bin_at; i < len - 8; i++) bad[i] = (unsigned char)(i * 131u + 7u);
        uint64_t sum = fnv1a(bad + bin_at, len - 8 - bin_at);
        memcpy(bad + len - 8, &sum, 8);
        corrupt_and_rebuild(path, bad, len, "rejected binary");
    }

    unsigned s = 12345;
    for (size_t i = 0; i < len; i++) {
        s = s * 1664525u + 1013904223u;
        bad[i] = (unsigned char)(s >> 24);
    }
    corrupt_and_rebuild(path, bad, len, "garbage");
    memcpy(bad, "CLSTYLEB", 8); /* right magic, garbage after it */
    corrupt_and_rebuild(path, bad, len, "garbage after the magic");
    free(bad);
    free(good);
}

static void test_no_cache(void)
{
    char home[4400];
    snprintf(home, sizeof home, "%s/nocache-home", root);
    setenv("XDG_CACHE_HOME", home, 1);
    setenv("CLSTYLE_NO_CACHE", "1", 1);
    clstyle_ctx *ctx = open_ctx();
    if (ctx) {
        CHECK(ctx->cache_dir[0] == '\0', "CLSTYLE_NO_CACHE=1 but cache dir '%s'", ctx->cache_dir);
        cl_kernel k;
        clstyle_error e = {0};
        CHECK(clstyle_ctx_kernel(ctx, "relu.cl", "", "relu_forward", &k, &e) == CLSTYLE_OK, "%s", e.msg);
        CHECK(ctx->compile.builds == 1 && ctx->compile.cache_hits == 0 && ctx->compile.cache_misses == 0,
              "no cache: %d hits, %d misses, %d builds", ctx->compile.cache_hits, ctx->compile.cache_misses,
              ctx->compile.builds);
        check_relu_works(ctx, "no cache");
        clstyle_ctx_free(ctx);
    }
    struct stat sb;
    char ours[4500];
    snprintf(ours, sizeof ours, "%s/clstyle", home);
    CHECK(stat(ours, &sb) != 0, "CLSTYLE_NO_CACHE=1 created %s", ours);
    /* "0" means the cache is on */
    setenv("CLSTYLE_NO_CACHE", "0", 1);
    setenv("XDG_CACHE_HOME", cache_home, 1);
    relu_ctx(1, 0, 0, "CLSTYLE_NO_CACHE=0");
    unsetenv("CLSTYLE_NO_CACHE");
}

static void test_options(void)
{
    int before = nbins();
    clstyle_ctx *ctx = open_ctx();
    if (!ctx) return;
    cl_kernel k0 = NULL, k1 = NULL;
    clstyle_error e = {0};
    CHECK(clstyle_ctx_kernel(ctx, "relu.cl", "", "relu_forward", &k0, &e) == CLSTYLE_OK, "%s", e.msg);
    CHECK(clstyle_ctx_kernel(ctx, "relu.cl", "-DCLSTYLE_TEST_VARIANT=1", "relu_forward", &k1, &e) == CLSTYLE_OK,
          "%s", e.msg);
    CHECK(k0 && k1 && k0 != k1, "options did not give a second program");
    CHECK(ctx->compile.cache_hits == 1 && ctx->compile.cache_misses == 1 && ctx->compile.builds == 1,
          "new options: %d hits, %d misses, %d builds; want 1, 1, 1", ctx->compile.cache_hits,
          ctx->compile.cache_misses, ctx->compile.builds);
    CHECK(nbins() == before + 1, "new options: %d cache files, want %d", nbins(), before + 1);
    clstyle_ctx_free(ctx);

    ctx = open_ctx();
    if (!ctx) return;
    CHECK(clstyle_ctx_kernel(ctx, "relu.cl", "-DCLSTYLE_TEST_VARIANT=1", "relu_forward", &k1, &e) == CLSTYLE_OK,
          "%s", e.msg);
    CHECK(ctx->compile.cache_hits == 1 && ctx->compile.builds == 0, "option variant not served from the cache");
    clstyle_ctx_free(ctx);
}

/* Copy of cl/relu.cl whose relu_forward writes 42: proof that the folder is read. */
static int write_modified_relu(const char *dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/cl/relu.cl", CLSTYLE_SOURCE_DIR);
    size_t len = 0;
    char *src = (char *)read_all(path, &len);
    CHECK(src != NULL, "cannot read %s", path);
    if (!src) return -1;
    const char *expr = "v > 0.0f ? v : 0.0f";
    char *at = strstr(src, expr);
    CHECK(at != NULL, "'%s' not in %s: update this test to the new relu_forward", expr, path);
    int rc = -1;
    if (at) {
        char *mod = malloc(len + 16);
        if (mod) {
            size_t head = (size_t)(at - src);
            memcpy(mod, src, head);
            int n = sprintf(mod + head, "%-*s", (int)strlen(expr), "42.0f");
            strcpy(mod + head + n, at + strlen(expr));
            if (snprintf(path, sizeof path, "%s/relu.cl", dir) >= (int)sizeof path) path[0] = 0;
            rc = tu_write_file(path, mod, strlen(mod));
            CHECK(rc == 0, "cannot write %s", path);
            free(mod);
        }
    }
    free(src);
    return rc;
}

static void test_kernel_dir(void)
{
    char dir[4400], path[4500];
    snprintf(dir, sizeof dir, "%s/kernels", root);
    mkdir(dir, 0755);
    if (write_modified_relu(dir)) return;
    setenv("CLSTYLE_KERNEL_DIR", dir, 1);
    int before = nbins();
    clstyle_ctx *ctx = open_ctx();
    if (ctx) {
        CHECK(!strcmp(ctx->cfg.kernel_dir, dir), "kernel dir '%s', want '%s'", ctx->cfg.kernel_dir, dir);
        float x[N], y[N];
        clstyle_error e = {0};
        clstyle_status st = run_relu(ctx, x, y, &e);
        CHECK(st == CLSTYLE_OK, "relu from CLSTYLE_KERNEL_DIR: %s", e.msg);
        int is42 = 0;
        for (int i = 0; i < N && !st; i++) is42 += y[i] == 42.0f;
        CHECK(!st && is42 == N, "relu.cl not loaded from %s: %d of %d outputs are 42", dir, is42, N);
        /* a changed source is a different cache entry, not a stale hit on the embedded one */
        CHECK(ctx->compile.builds == 1 && ctx->compile.cache_hits == 0, "modified source: %d hits, %d builds",
              ctx->compile.cache_hits, ctx->compile.builds);
        CHECK(nbins() == before + 1, "modified source: %d cache files, want %d", nbins(), before + 1);

        cl_kernel k;
        clstyle_err_clear(&e);
        st = clstyle_ctx_kernel(ctx, "pool.cl", "", "maxpool_forward", &k, &e);
        snprintf(path, sizeof path, "%s/pool.cl", dir);
        CHECK(st == CLSTYLE_ERR_NOINPUT, "missing kernel file: status %d (%s)", (int)st, e.msg);
        CHECK(strstr(e.msg, path) != NULL, "missing kernel file: message does not name %s: %s", path, e.msg);
        CHECK(strstr(e.msg, "CLSTYLE_KERNEL_DIR") != NULL, "missing kernel file: message does not name "
              "CLSTYLE_KERNEL_DIR: %s", e.msg);
        clstyle_ctx_free(ctx);
    }

    /* a syntax error: the message carries the file, the options and the build log */
    char broken[4400];
    snprintf(broken, sizeof broken, "%s/broken", root);
    mkdir(broken, 0755);
    snprintf(path, sizeof path, "%s/relu.cl", broken);
    const char *bad = "__kernel void relu_forward(__global float *y)\n{\n    y[0] = clstyle_undeclared_name +;\n}\n";
    CHECK(tu_write_file(path, bad, strlen(bad)) == 0, "cannot write %s", path);
    setenv("CLSTYLE_KERNEL_DIR", broken, 1);
    before = nbins();
    ctx = open_ctx();
    if (ctx) {
        cl_kernel k = NULL;
        clstyle_error e = {0};
        const char *opts = "-DCLSTYLE_TEST_OPTION=7";
        clstyle_status st = clstyle_ctx_kernel(ctx, "relu.cl", opts, "relu_forward", &k, &e);
        CHECK(st == CLSTYLE_ERR_INTERNAL, "broken kernel: status %d, want CLSTYLE_ERR_INTERNAL", (int)st);
        CHECK(e.status == st, "broken kernel: err.status %d", (int)e.status);
        CHECK(strstr(e.msg, "relu.cl") != NULL, "broken kernel: no file name in: %s", e.msg);
        CHECK(strstr(e.msg, broken) != NULL, "broken kernel: no folder in: %s", e.msg);
        CHECK(strstr(e.msg, opts) != NULL, "broken kernel: no options in: %s", e.msg);
        CHECK(strstr(e.msg, "error") != NULL, "broken kernel: no build log in: %s", e.msg);
        CHECK(strstr(e.msg, "clstyle_undeclared_name") != NULL || strstr(e.msg, "expected") != NULL,
              "broken kernel: build log does not point at the fault: %s", e.msg);
        CHECK(nbins() == before, "a failed build wrote a cache entry");
        /* the failure is not remembered as a program: asking again fails again */
        clstyle_err_clear(&e);
        CHECK(clstyle_ctx_kernel(ctx, "relu.cl", opts, "relu_forward", &k, &e) == CLSTYLE_ERR_INTERNAL,
              "second attempt on a broken kernel did not fail");
        clstyle_ctx_free(ctx);
    }

    /* an empty folder value means the embedded sources */
    setenv("CLSTYLE_KERNEL_DIR", "", 1);
    relu_ctx(1, 0, 0, "CLSTYLE_KERNEL_DIR empty");
    unsetenv("CLSTYLE_KERNEL_DIR");
}

int main(void)
{
    unsetenv("CLSTYLE_KERNEL_DIR");
    unsetenv("CLSTYLE_NO_CACHE");
    snprintf(root, sizeof root, "%s", tu_tmpdir("test_program"));
    snprintf(cache_home, sizeof cache_home, "%s/cache", root);
    snprintf(cache_dir, sizeof cache_dir, "%s/clstyle", cache_home);
    setenv("XDG_CACHE_HOME", cache_home, 1);

    test_miss_then_hit();
    test_corrupt();
    test_no_cache();
    test_options();
    test_kernel_dir();
    return tu_finish("test_program");
}
