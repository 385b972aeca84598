/* Test harness helpers shared by every test binary. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "safetensors.h"

int tu_checks, tu_failures;

int tu_finish(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, tu_checks, tu_failures);
    if (tu_checks == 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    return tu_failures ? 1 : 0;
}

const char *tu_tmpdir(const char *name)
{
    static char path[4096];
    const char *base = getenv("CLSTYLE_TEST_TMP");
    if (!base || !*base) base = "/tmp/clstyle-test";
    char cmd[2 * sizeof path + 64];
    snprintf(path, sizeof path, "%s/%s", base, name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
    if (system(cmd) != 0) fprintf(stderr, "cannot create %s\n", path);
    return path;
}

int tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(data, 1, len, f);
    int rc = fclose(f);
    return (n == len && rc == 0) ? 0 : -1;
}

void *tu_xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

int tu_same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

int tu_read_plane(const char *path, const char *name, clstyle_image *img)
{
    clstyle_st_file f;
    clstyle_error err = {0};
    int ok = 0;
    if (clstyle_st_open(path, &f, &err) == CLSTYLE_OK) {
        const clstyle_st_tensor *t = clstyle_st_find(&f, name);
        ok = t && t->ndim == 3 && t->shape[0] == 3 &&
             clstyle_image_alloc(img, (int)t->shape[2], (int)t->shape[1], &err) == CLSTYLE_OK &&
             clstyle_st_read_f32(&f, t, img->data, &err) == CLSTYLE_OK;
        clstyle_st_close(&f);
    }
    CHECK(ok, "reading %s of %s: %s", name, path, err.msg);
    return ok;
}
