/* Atomic file output (temp file + fsync + rename). See fileio.h. */
#include "fileio.h"
#include "mpi.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temp file of the write in progress, for clstyle_atomic_unlink_current (one at a
 * time: the job writes its files one after another). */
static char current_tmp[4200];
static volatile sig_atomic_t current_set;

void clstyle_atomic_unlink_current(void)
{
    if (current_set) unlink(current_tmp);
}

const char *clstyle_file_kind(unsigned mode)
{
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

clstyle_status clstyle_output_check(const char *path, const char *flag, clstyle_error *err)
{
    size_t n = path ? strlen(path) : 0;
    if (n == 0) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s: no file given", flag);
    if (path[n - 1] == '/')
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "%s %s names a folder, not a file", flag, path);
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "%s %s is %s: refusing to replace it", flag, path,
                               clstyle_file_kind(sb.st_mode));
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode) && stat(path, &sb) != 0)
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "%s %s is a symbolic link to nothing", flag, path);
    return CLSTYLE_OK;
}

/* The file an output path writes: the path itself, or a link's final target. */
static clstyle_status output_target(const char *path, char *out, size_t len, clstyle_error *err)
{
    struct stat sb;
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        char *rp = realpath(path, NULL);
        if (!rp) return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "cannot resolve %s: %s", path, strerror(errno));
        int fits = strlen(rp) < len;
        if (fits) strcpy(out, rp);
        free(rp);
        if (!fits) return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "%s: path too long", path);
        return CLSTYLE_OK;
    }
    if (strlen(path) >= len) return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "%s: path too long", path);
    strcpy(out, path);
    return CLSTYLE_OK;
}

clstyle_status clstyle_input_open(const char *path, const char *what, int nofollow, int *fd, clstyle_error *err)
{
    *fd = -1;
    int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    if (f < 0)
        return clstyle_err_set(err, CLSTYLE_ERR_NOINPUT, "%s%scannot open %s: %s", what ? what : "", what ? ": " : "",
                               path, strerror(errno));
    struct stat sb;
    if (fstat(f, &sb) != 0) {
        int e = errno;
        close(f);
        return clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(f);
        return clstyle_err_set(err, CLSTYLE_ERR_NOINPUT, "%s%s%s is %s, not a regular file", what ? what : "",
                               what ? " " : "", path, clstyle_file_kind(sb.st_mode));
    }
    int fl = fcntl(f, F_GETFL);
    if (fl >= 0) fcntl(f, F_SETFL, fl & ~O_NONBLOCK);
    *fd = f;
    return CLSTYLE_OK;
}

clstyle_status clstyle_input_fopen(const char *path, const char *what, int nofollow, FILE **f, clstyle_error *err)
{
    int fd;
    *f = NULL;
    clstyle_status st = clstyle_input_open(path, what, nofollow, &fd, err);
    if (st) return st;
    *f = fdopen(fd, "rb");
    if (!*f) {
        int e = errno;
        close(fd);
        return clstyle_err_set(err, CLSTYLE_ERR_NOINPUT, "cannot open %s: %s", path, strerror(e));
    }
    return CLSTYLE_OK;
}

clstyle_status clstyle_atomic_open(clstyle_atomic_file *af, const char *path, clstyle_error *err)
{
    memset(af, 0, sizeof *af);
    clstyle_status st = clstyle_output_check(path, "output", err);
    if (!st) st = output_target(path, af->path, sizeof af->path, err);
    if (st) return st;
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp-XXXXXX", af->path);
    int fd = mkstemp(af->tmp);
    if (fd < 0) {
        af->tmp[0] = '\0';
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "cannot create %s: %s", path,
                               strerror(errno));
    }
    fchmod(fd, 0644); /* mkstemp makes 0600; outputs are ordinary files */
    current_set = 0;
    memcpy(current_tmp, af->tmp, sizeof current_tmp);
    current_set = 1;
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
    current_set = 0;
}

clstyle_status clstyle_atomic_commit(clstyle_atomic_file *af, clstyle_error *err)
{
    if (clstyle_mpi_rank() > 0) { /* under mpirun rank 0 alone writes files (host/mpi.h) */
        clstyle_atomic_abort(af);
        return CLSTYLE_OK;
    }
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
    current_set = 0;
    return CLSTYLE_OK;
fail:;
    int e = errno;
    clstyle_atomic_abort(af);
    return clstyle_err_set(err, CLSTYLE_ERR_IO, "cannot write %s (%s): %s", af->path, what,
                           strerror(e));
}
