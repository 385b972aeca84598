/* Atomic file output (temp file + fsync + rename). See fileio.h. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

clstyle_status clstyle_atomic_open(clstyle_atomic_file *af, const char *path, clstyle_error *err)
{
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path)
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "%s: path too long", path);
    strcpy(af->path, path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(af->tmp);
    if (fd < 0) {
        af->tmp[0] = '\0';
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "cannot create %s: %s", path,
                               strerror(errno));
    }
    fchmod(fd, 0644); /* mkstemp makes 0600; outputs are ordinary files */
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(fd);
        unlink(af->tmp);
        af->tmp[0] = '\0';
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "cannot create %s: %s", path,
                               strerror(e));
    }
    return CLSTYLE_OK;
}

clstyle_status clstyle_atomic_write(clstyle_atomic_file *af, const void *data, size_t len,
                                    clstyle_error *err)
{
    if (len && fwrite(data, 1, len, af->fp) != len)
        return clstyle_err_set(err, CLSTYLE_ERR_IO, "write error on %s: %s", af->path,
                               strerror(errno));
    return CLSTYLE_OK;
}

void clstyle_atomic_abort(clstyle_atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp[0]) {
        unlink(af->tmp);
        af->tmp[0] = '\0';
    }
}

clstyle_status clstyle_atomic_commit(clstyle_atomic_file *af, clstyle_error *err)
{
    const char *what = "flush";
    if (fflush(af->fp) != 0) goto fail;
    what = "fsync";
    if (fsync(fileno(af->fp)) != 0) goto fail;
    what = "close";
    int rc = fclose(af->fp);
    af->fp = NULL;
    if (rc != 0) goto fail;
    what = "rename";
    if (rename(af->tmp, af->path) != 0) goto fail;
    af->tmp[0] = '\0';
    return CLSTYLE_OK;
fail:;
    int e = errno;
    clstyle_atomic_abort(af);
    return clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot write %s (%s): %s", af->path, what,
                           strerror(e));
}
