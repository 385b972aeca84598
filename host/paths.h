/* The files one command reads and writes, checked together before any device work: no
 * output may be the same file as an input or as another output (file identity: device
 * and inode when the file exists, else the resolved folder plus the name), and every
 * output must be a regular file or not exist yet (fileio.h). */
#ifndef CLSTYLE_PATHS_H
#define CLSTYLE_PATHS_H

#include "error.h"

#define CLSTYLE_PATHS_MAX 24

typedef struct clstyle_paths {
    struct {
        const char *path, *flag; /* as given; flag names it in messages ("-c/--content") */
        int output;
    } e[CLSTYLE_PATHS_MAX];
    int n;
    /* numbered snapshots OUT_NNNN of output `snap` (an index into e, -1 = none): every
     * `every` iterations after `first` and before `last` */
    int snap;
    long every, first, last;
} clstyle_paths;

void clstyle_paths_init(clstyle_paths *p);
/* Adds a path (NULL or "" is skipped). */
void clstyle_paths_add(clstyle_paths *p, const char *path, const char *flag, int output);
/* The snapshot names of output index i: numbered(out, k) for k = every, 2*every, ... in (first, last). */
void clstyle_paths_snapshots(clstyle_paths *p, int i, long every, long first, long last);
/* Every output checked (clstyle_output_check: 73), then every pair (64). */
clstyle_status clstyle_paths_check(const clstyle_paths *p, clstyle_error *err);
/* A key for the file path is or would be (`clstyle batch`: outputs two jobs share):
 * "=DEV:INO" when it exists, else its resolved folder and name, else (its folder does not
 * exist yet) the path made absolute with ".", ".." and repeated slashes taken out. Two
 * paths with one key name one file. */
void clstyle_paths_key(const char *path, char *buf, size_t len);
/* OUT with _NNNN before its extension ("out.png", 50 -> "out_0050.png"). */
void clstyle_paths_numbered(const char *out, long k, char *buf, size_t len);

#endif
