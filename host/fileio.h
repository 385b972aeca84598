/* Safe file access. Output is atomic: write to a temp file in the target's folder,
 * check every write, fsync, then rename over the target. On any failure the temp file
 * is removed and the previous file at the target path is untouched. A target that is
 * not a regular file (folder, device, FIFO, socket) is refused, never replaced; a
 * symbolic link is written through (its target is replaced). Input is opened without
 * blocking and must be a regular file. */
#ifndef CLSTYLE_FILEIO_H
#define CLSTYLE_FILEIO_H

#include <stdio.h>
#include "error.h"

typedef struct clstyle_atomic_file {
    FILE *fp;              /* stream on the temp file; write through it */
    char path[4096];       /* final path */
    char tmp[4200];        /* temp path in the same folder */
} clstyle_atomic_file;

/* Checks that path can be an output: not "" or ending in '/', and if something exists
 * there (following links) a regular file. CLSTYLE_ERR_CANTCREAT naming flag and kind. */
clstyle_status clstyle_output_check(const char *path, const char *flag, clstyle_error *err);
/* Creates the temp file (after clstyle_output_check). Fails with CLSTYLE_ERR_CANTCREAT
 * naming the path. */
clstyle_status clstyle_atomic_open(clstyle_atomic_file *af, const char *path, clstyle_error *err);
/* Flushes, fsyncs, closes and renames. Any failure: temp removed, CLSTYLE_ERR_IO. */
clstyle_status clstyle_atomic_commit(clstyle_atomic_file *af, clstyle_error *err);
/* Discards the temp file (safe to call after a failed commit or twice). */
void clstyle_atomic_abort(clstyle_atomic_file *af);
/* Checked fwrite: CLSTYLE_ERR_IO naming the path on a short write. */
clstyle_status clstyle_atomic_write(clstyle_atomic_file *af, const void *data, size_t len,
                                    clstyle_error *err);

/* Opens path for reading without blocking (a FIFO does not hang) and without making it
 * the controlling terminal; anything but a regular file is refused with
 * CLSTYLE_ERR_NOINPUT ("what PATH is a FIFO, not a regular file"). nofollow: refuse a
 * symbolic link too (cache entries). *fd is blocking again on return. */
clstyle_status clstyle_input_open(const char *path, const char *what, int nofollow, int *fd, clstyle_error *err);
/* The same as a stdio stream ("rb"). */
clstyle_status clstyle_input_fopen(const char *path, const char *what, int nofollow, FILE **f, clstyle_error *err);
/* "a folder", "a FIFO", "a device", "a socket", "a symbolic link" or "not a regular file". */
const char *clstyle_file_kind(unsigned mode);

/* The temp file being written now (for a signal handler: async-signal-safe unlink). */
void clstyle_atomic_unlink_current(void);

#endif
