/* Atomic file output: write to a temp file in the target's folder, check every write,
 * fsync, then rename over the target. On any failure the temp file is removed and the
 * previous file at the target path is untouched. */
#ifndef CLSTYLE_FILEIO_H
#define CLSTYLE_FILEIO_H

#include <stdio.h>
#include "error.h"

typedef struct clstyle_atomic_file {
    FILE *fp;              /* stream on the temp file; write through it */
    char path[4096];       /* final path */
    char tmp[4200];        /* temp path in the same folder */
} clstyle_atomic_file;

/* Creates the temp file. Fails with CLSTYLE_ERR_CANTCREAT naming the path. */
clstyle_status clstyle_atomic_open(clstyle_atomic_file *af, const char *path, clstyle_error *err);
/* Flushes, fsyncs, closes and renames. Any failure: temp removed, CLSTYLE_ERR_IO. */
clstyle_status clstyle_atomic_commit(clstyle_atomic_file *af, clstyle_error *err);
/* Discards the temp file (safe to call after a failed commit or twice). */
void clstyle_atomic_abort(clstyle_atomic_file *af);
/* Checked fwrite: CLSTYLE_ERR_IO naming the path on a short write. */
clstyle_status clstyle_atomic_write(clstyle_atomic_file *af, const void *data, size_t len,
                                    clstyle_error *err);

#endif
