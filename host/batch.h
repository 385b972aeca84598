/* `clstyle batch`'s manifest and shards: the manifest cut into jobs (one a line: content,
 * styles, output, options, tab-separated), which jobs a shard runs (--shard K/N, Slurm
 * array variables, a Kubernetes completion index) and outputs two jobs share. Pure
 * functions with status codes; the CLI (host/cli/batch.c) parses options and runs jobs. */
#ifndef CLSTYLE_BATCH_H
#define CLSTYLE_BATCH_H

#include <stddef.h>

#include "error.h"

#define CLSTYLE_BATCH_MAX_BYTES (256u << 20) /* a manifest larger than this is refused (65) */
#define CLSTYLE_BATCH_MAX_WORDS 256          /* option words of one job */

/* One job: a line of the manifest that is neither empty nor a comment. */
typedef struct clstyle_batch_job {
    int line;           /* 1-based line of the manifest */
    char *content;      /* columns as written (relative to the manifest's folder: clstyle_batch_resolve) */
    char *output;
    char **words;       /* nstyle style images, then nopt option words (split on spaces) */
    int nstyle, nopt;
    char *error;        /* a malformed line: why (no path or line number; the job fails with 64); else NULL */
} clstyle_batch_job;

typedef struct clstyle_batch {
    const char *path;   /* the manifest as named (messages) */
    char dir[4096];     /* its folder ("." when the name has none) */
    char *text;         /* the manifest, cut in place into the jobs' columns */
    clstyle_batch_job *jobs;
    int njobs;
} clstyle_batch;

/* Reads and parses the manifest at path: CLSTYLE_ERR_NOINPUT when it cannot be read, 65
 * when it is larger than CLSTYLE_BATCH_MAX_BYTES. A malformed line is not an error here:
 * its job carries the reason. */
clstyle_status clstyle_batch_read(clstyle_batch *b, const char *path, clstyle_error *err);
/* The same on text (len bytes, text[len] == 0), which b takes over (freed with b; also on
 * failure). path names the manifest and gives its folder. */
clstyle_status clstyle_batch_parse(clstyle_batch *b, const char *path, char *text, size_t len, clstyle_error *err);
void clstyle_batch_free(clstyle_batch *b);
/* path from the manifest as the process opens it: absolute as it is, else relative to the
 * manifest's folder. CLSTYLE_ERR_USAGE when it does not fit in len. */
clstyle_status clstyle_batch_resolve(const clstyle_batch *b, const char *path, char *out, size_t len,
                                     clstyle_error *err);

/* A shard: jobs k-1, k-1+n, k-1+2n, ... (0-based job indices, comments not counted). */
typedef struct clstyle_batch_shard {
    int k, n;           /* 1 <= k <= n; 1/1 is every job */
    char from[160];     /* where it came from, for the summary ("--shard 2/4", "SLURM_ARRAY_TASK_ID 5", ...) */
} clstyle_batch_shard;

/* The variables of the job schedulers, as the environment has them (NULL or "": unset). */
typedef struct clstyle_batch_env {
    const char *slurm_id, *slurm_count, *slurm_min, *slurm_max, *slurm_step; /* SLURM_ARRAY_TASK_* */
    const char *completion_index; /* JOB_COMPLETION_INDEX (Kubernetes indexed Jobs, 0-based) */
} clstyle_batch_env;

/* "K/N" (--shard): CLSTYLE_ERR_USAGE unless both are whole numbers with 1 <= K <= N. */
clstyle_status clstyle_batch_shard_parse(const char *arg, clstyle_batch_shard *s, clstyle_error *err);
/* The shard of this process from --shard (flag, NULL when not given), --shards (shards,
 * 0 when not given) and env: a Slurm array task is shard (ID - MIN) / STEP + 1 of COUNT;
 * a completion index I with --shards N is shard I + 1 of N; --shard must agree with
 * whichever the environment gives. Neither: every job. CLSTYLE_ERR_USAGE on a malformed
 * or disagreeing value, naming it. */
clstyle_status clstyle_batch_shard_pick(const char *flag, long shards, const clstyle_batch_env *env,
                                        clstyle_batch_shard *s, clstyle_error *err);
/* Whether job index i (0-based) is in shard s. */
int clstyle_batch_in_shard(const clstyle_batch_shard *s, int i);

/* A file some job writes: its key (clstyle_paths_key) and whose it is. */
typedef struct clstyle_batch_output {
    const char *key;
    int job;            /* index into clstyle_batch.jobs */
    const char *flag;   /* "-o/--output", "--checkpoint", ... */
    const char *path;   /* as the job names it (messages) */
    int common;         /* named on the command line, so every job's */
} clstyle_batch_output;

/* The first pair of outputs of two different jobs with one key (sorted: outs is reordered),
 * in manifest order: 1 and *a, *b (a's job before b's) set to the two entries; 0 when every
 * key belongs to one job. */
int clstyle_batch_find_duplicate(clstyle_batch_output *outs, int n, clstyle_batch_output *a,
                                 clstyle_batch_output *b);

#endif
