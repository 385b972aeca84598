/* Output/input collision checks (paths.h). */
#include "paths.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

/* Where a path is: its file (device, inode) when it exists, else the resolved folder
 * plus its name ("" when the folder does not resolve: it cannot collide). */
typedef struct where {
    int exists;
    dev_t dev;
    ino_t ino;
    char at[PATH_MAX + NAME_MAX + 2];
} where;

/* path's folder into dir ("." when it has none); returns its file name. */
static const char *folder_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, len, ".");
    else snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return slash ? slash + 1 : path;
}

static void locate(const char *path, where *w)
{
    memset(w, 0, sizeof *w);
    struct stat sb;
    if (stat(path, &sb) == 0) {
        w->exists = 1;
        w->dev = sb.st_dev;
        w->ino = sb.st_ino;
        return;
    }
    char dir[PATH_MAX];
    const char *name = folder_of(path, dir, sizeof dir);
    char *rd = realpath(dir, NULL);
    if (!rd) return;
    snprintf(w->at, sizeof w->at, "%s%s%s", rd, rd[strlen(rd) - 1] == '/' ? "" : "/", name);
    free(rd);
}

/* path made absolute (from the working folder) and cleaned lexically into buf. */
static void lexical(const char *path, char *buf, size_t len)
{
    char full[2 * PATH_MAX], cwd[PATH_MAX];
    if (path[0] != '/' && getcwd(cwd, sizeof cwd)) snprintf(full, sizeof full, "%s/%s", cwd, path);
    else snprintf(full, sizeof full, "%s", path);
    size_t at = 0;
    char *save = NULL;
    for (char *seg = strtok_r(full, "/", &save); seg && at < len; seg = strtok_r(NULL, "/", &save)) {
        if (!strcmp(seg, ".")) continue;
        if (!strcmp(seg, "..")) {
            while (at > 0 && buf[--at] != '/') {}
            continue;
        }
        at += (size_t)snprintf(buf + at, len - at, "/%s", seg);
    }
    if (!at && len > 1) snprintf(buf, len, "/");
}

void clstyle_paths_key(const char *path, char *buf, size_t len)
{
    where w;
    locate(path, &w);
    if (w.exists) snprintf(buf, len, "=%llu:%llu", (unsigned long long)w.dev, (unsigned long long)w.ino);
    else if (w.at[0]) snprintf(buf, len, "%s", w.at);
    else lexical(path, buf, len);
}

static int same(const where *a, const where *b)
{
    if (a->exists != b->exists) return 0;
    if (a->exists) return a->dev == b->dev && a->ino == b->ino;
    return a->at[0] && !strcmp(a->at, b->at);
}

void clstyle_paths_init(clstyle_paths *p)
{
    memset(p, 0, sizeof *p);
    p->snap = -1;
}

void clstyle_paths_add(clstyle_paths *p, const char *path, const char *flag, int output)
{
    if (!path || !*path || p->n == CLSTYLE_PATHS_MAX) return;
    p->e[p->n].path = path;
    p->e[p->n].flag = flag;
    p->e[p->n].output = output;
    p->n++;
}

void clstyle_paths_snapshots(clstyle_paths *p, int i, long every, long first, long last)
{
    p->snap = i;
    p->every = every;
    p->first = first;
    p->last = last;
}

void clstyle_paths_numbered(const char *out, long k, char *buf, size_t len)
{
    const char *slash = strrchr(out, '/');
    const char *dot = strrchr(out, '.');
    if (!dot || (slash && dot < slash)) dot = out + strlen(out);
    snprintf(buf, len, "%.*s_%04ld%s", (int)(dot - out), out, k, dot);
}

/* A resumed checkpoint is read whole before the first write: --checkpoint may name it. */
static int allowed(const char *a, const char *b)
{
    return (!strcmp(a, "--checkpoint") && !strcmp(b, "--resume")) ||
           (!strcmp(a, "--resume") && !strcmp(b, "--checkpoint"));
}

/* Snapshot iteration named by the file name `name` of OUT's pattern (0 if none). */
static long snapshot_of(const clstyle_paths *p, const char *name)
{
    const char *out = p->e[p->snap].path;
    const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
    const char *dot = strrchr(base, '.');
    size_t stem = dot ? (size_t)(dot - base) : strlen(base);
    const char *ext = base + stem;
    size_t n = strlen(name), e = strlen(ext);
    if (n < stem + 2 + e || strncmp(name, base, stem) || name[stem] != '_' || strcmp(name + n - e, ext)) return 0;
    long k = 0;
    for (size_t i = stem + 1; i < n - e; i++) {
        if (name[i] < '0' || name[i] > '9' || k > 100000000) return 0;
        k = k * 10 + (name[i] - '0');
    }
    char want[NAME_MAX + 32];
    clstyle_paths_numbered(base, k, want, sizeof want);
    if (strcmp(want, name) || k <= p->first || k >= p->last || k % p->every) return 0;
    return k;
}

/* Any other path of the list that a numbered snapshot of OUT would write over: by name
 * in OUT's folder, or by identity of a file of a snapshot's name there. */
static clstyle_status check_snapshots(const clstyle_paths *p, const where *w, clstyle_error *err)
{
    if (p->snap < 0 || p->every <= 0) return CLSTYLE_OK;
    char dir[PATH_MAX];
    folder_of(p->e[p->snap].path, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) return CLSTYLE_OK; /* the output check reports a missing folder */
    clstyle_status st = CLSTYLE_OK;
    for (struct dirent *de; !st && (de = readdir(d));) {
        long k = snapshot_of(p, de->d_name);
        if (!k) continue;
        char path[PATH_MAX + NAME_MAX + 2];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        where s;
        locate(path, &s);
        for (int i = 0; i < p->n && !st; i++)
            if (i != p->snap && same(&s, &w[i]))
                st = clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                                     "--save-every would write %s (iteration %ld) over %s %s: refusing", path, k,
                                     p->e[i].flag, p->e[i].path);
    }
    closedir(d);
    /* paths not created yet (two outputs), by their resolved folder and name */
    char *odir = realpath(dir, NULL);
    size_t olen = odir ? strlen(odir) : 0;
    for (int i = 0; odir && i < p->n && !st; i++) {
        if (i == p->snap || w[i].exists || strncmp(w[i].at, odir, olen) || w[i].at[olen] != '/') continue;
        const char *name = w[i].at + olen + 1;
        long k = strchr(name, '/') ? 0 : snapshot_of(p, name);
        if (k)
            st = clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                                 "--save-every would write iteration %ld's image over %s %s: refusing", k, p->e[i].flag,
                                 p->e[i].path);
    }
    free(odir);
    return st;
}

clstyle_status clstyle_paths_check(const clstyle_paths *p, clstyle_error *err)
{
    clstyle_status st = CLSTYLE_OK;
    for (int i = 0; i < p->n && !st; i++)
        if (p->e[i].output) st = clstyle_output_check(p->e[i].path, p->e[i].flag, err);
    if (st) return st;
    where w[CLSTYLE_PATHS_MAX];
    for (int i = 0; i < p->n; i++) locate(p->e[i].path, &w[i]);
    for (int i = 0; i < p->n; i++) {
        if (!p->e[i].output) continue;
        for (int j = 0; j < p->n; j++) {
            if (j == i || (p->e[j].output && j < i) || !same(&w[i], &w[j]) || allowed(p->e[i].flag, p->e[j].flag))
                continue;
            if (p->e[j].output)
                return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s %s and %s %s are the same file", p->e[i].flag,
                                       p->e[i].path, p->e[j].flag, p->e[j].path);
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s %s is also an input (%s %s): refusing to overwrite it",
                                   p->e[i].flag, p->e[i].path, p->e[j].flag, p->e[j].path);
        }
    }
    return check_snapshots(p, w, err);
}
