/* Minimal test harness: CHECK macros that count failures, and a temp-dir helper.
 * A test binary returns 0 only when every check passed and at least one ran. */
#ifndef CLSTYLE_TESTUTIL_H
#define CLSTYLE_TESTUTIL_H

#include <stdio.h>

#include "png_io.h"

extern int tu_checks, tu_failures;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        tu_checks++;                                                            \
        if (!(cond)) {                                                          \
            tu_failures++;                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

/* Prints a summary and returns the process exit code. */
int tu_finish(const char *name);
/* A fresh, empty directory for this test: $CLSTYLE_TEST_TMP/<name> (or /tmp/...). */
const char *tu_tmpdir(const char *name);
/* malloc that never returns NULL: prints and exits 2 when memory runs out. */
void *tu_xmalloc(size_t bytes);
/* Writes len bytes to path; returns 0 on success. */
int tu_write_file(const char *path, const void *data, size_t len);
/* dir/name in one of 8 rotating static buffers (so a call can take several). */
const char *tu_path(const char *dir, const char *name);
/* The whole file (malloc'd, *len bytes; an empty file gives a 1-byte buffer), or NULL. */
unsigned char *tu_slurp(const char *path, size_t *len);
/* Temp files of clstyle's atomic writes (".tmp-" in the name) left in dir; -1 if unreadable. */
int tu_count_tmp_files(const char *dir);
/* A full disk, portably: on, the process's file-size limit drops to 4096 bytes (SIGXFSZ
 * ignored), so writes past it fail with EFBIG; off restores both. tu_full_disk(1)
 * returns 0 when the limit cannot be set (skip the case). */
int tu_full_disk(int on);
/* What a refused write must leave: status want, a one-line message naming path, and
 * path still holding old (old_len bytes; old NULL: no file there), no temp file in dir. */
void tu_check_write_refused(clstyle_status st, const clstyle_error *err, clstyle_status want, const char *path,
                            const unsigned char *old, size_t old_len, const char *dir, const char *what);
/* 1 if both files exist and hold the same bytes. */
int tu_same_file(const char *a, const char *b);
/* The (3, h, w) float tensor `name` of a safetensors file (a checkpoint's x, adam.m)
 * as an image (img must not own data); 1 on success, else a failed CHECK. */
int tu_read_plane(const char *path, const char *name, clstyle_image *img);

#endif
