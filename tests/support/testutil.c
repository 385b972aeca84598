/* Test harness helpers shared by every test binary. */
#include "testutil.h"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
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

const char *tu_path(const char *dir, const char *name)
{
    static char buf[8][4096];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

unsigned char *tu_slurp(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n;
    unsigned char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (*len + n > cap) {
            cap = (*len + n) * 2;
            unsigned char *grown = tu_xmalloc(cap);
            if (*len) memcpy(grown, buf, *len);
            free(buf);
            buf = grown;
        }
        memcpy(buf + *len, chunk, n);
        *len += n;
    }
    fclose(f);
    return buf ? buf : tu_xmalloc(1);
}

int tu_count_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

int tu_full_disk(int on)
{
    static struct rlimit saved;
    static void (*old_handler)(int);
    static int active;
    if (!on) {
        if (active) setrlimit(RLIMIT_FSIZE, &saved);
        if (active) signal(SIGXFSZ, old_handler);
        active = 0;
        return 1;
    }
    if (active || getrlimit(RLIMIT_FSIZE, &saved) != 0) return 0;
    struct rlimit tiny = saved;
    tiny.rlim_cur = 4096;
    old_handler = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &tiny) != 0) {
        signal(SIGXFSZ, old_handler);
        return 0;
    }
    active = 1;
    return 1;
}

void tu_check_write_refused(clstyle_status st, const clstyle_error *err, clstyle_status want, const char *path,
                            const unsigned char *old, size_t old_len, const char *dir, const char *what)
{
    CHECK(st == want, "%s: status %d, expected %d (%s)", what, st, want, err->msg);
    CHECK(strstr(err->msg, path) != NULL, "%s: message does not name the file: %s", what, err->msg);
    CHECK(strchr(err->msg, '\n') == NULL, "%s: message is not one line", what);
    size_t len;
    unsigned char *now = tu_slurp(path, &len);
    if (old) CHECK(now && len == old_len && memcmp(now, old, len) == 0, "%s: file changed", what);
    else CHECK(now == NULL, "%s: a file was created", what);
    free(now);
    CHECK(tu_count_tmp_files(dir) == 0, "%s: temp file left behind", what);
}
