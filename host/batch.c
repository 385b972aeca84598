/* `clstyle batch`'s manifest, shards and shared outputs (batch.h): the text cut into jobs
 * in place, the shard of this process from a flag or a scheduler's variables, and the
 * first output two jobs would both write. */
#include "batch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

/* ---- the manifest ---- */

#define MAX_COLUMNS 4  /* content, style, output, options */

static int blank(const char *s)
{
    return !s[strspn(s, " \t")];
}

/* Splits s in place at sep: empty items skipped (skip_empty) or refused (-1); -1 when
 * more than max; else the count. */
static int split(char *s, char sep, int skip_empty, char **items, int max)
{
    int n = 0;
    for (char *p = s; p;) {
        char *next = strchr(p, sep);
        if (next) *next++ = '\0';
        if (*p || !skip_empty) {
            if (!*p || n == max) return -1;
            items[n++] = p;
        }
        p = next;
    }
    return n;
}

/* The style and option columns as one word list (styles first). A malformed line is
 * CLSTYLE_ERR_USAGE with its reason in e. */
static clstyle_status split_words(clstyle_batch_job *j, char *style, char *opts, clstyle_error *e)
{
    char *w[CLSTYLE_MAX_STYLES + CLSTYLE_BATCH_MAX_WORDS];
    int ns = split(style, ',', 0, w, CLSTYLE_MAX_STYLES);
    if (ns < 0)
        return clstyle_err_set(e, CLSTYLE_ERR_USAGE, "style column: an empty item in its comma list, or more than "
                               "%d files", CLSTYLE_MAX_STYLES);
    int no = opts ? split(opts, ' ', 1, w + ns, CLSTYLE_BATCH_MAX_WORDS) : 0;
    if (no < 0)
        return clstyle_err_set(e, CLSTYLE_ERR_USAGE, "options column: more than %d words", CLSTYLE_BATCH_MAX_WORDS);
    j->words = malloc((size_t)(ns + no + 1) * sizeof *j->words);
    if (!j->words) return clstyle_err_set(e, CLSTYLE_ERR_INTERNAL, "out of host memory");
    memcpy(j->words, w, (size_t)(ns + no) * sizeof *w);
    j->nstyle = ns;
    j->nopt = no;
    return CLSTYLE_OK;
}

/* One job's line (no newline) cut into its columns; a malformed one is CLSTYLE_ERR_USAGE
 * with its reason in e. */
static clstyle_status parse_line(clstyle_batch_job *j, char *line, size_t len, clstyle_error *e)
{
    if (strlen(line) != len) return clstyle_err_set(e, CLSTYLE_ERR_USAGE, "the line holds a NUL byte");
    char *col[MAX_COLUMNS + 1];
    int n = 0;
    for (char *p = line; p && n <= MAX_COLUMNS; n++) {
        col[n] = p;
        if ((p = strchr(p, '\t'))) *p++ = '\0';
    }
    if (n < 3)
        return clstyle_err_set(e, CLSTYLE_ERR_USAGE, "expected CONTENT, STYLE, OUTPUT and optional OPTIONS separated "
                               "by tabs, found %d column%s", n, n == 1 ? "" : "s");
    if (n > MAX_COLUMNS)
        return clstyle_err_set(e, CLSTYLE_ERR_USAGE, "more than %d tab-separated columns (the options are one "
                               "column, split on spaces)", MAX_COLUMNS);
    static const char *const names[] = {"content", "style", "output"};
    for (int c = 0; c < 3; c++)
        if (!*col[c]) return clstyle_err_set(e, CLSTYLE_ERR_USAGE, "the %s column is empty", names[c]);
    j->content = col[0];
    j->output = col[2];
    return split_words(j, col[1], n > 3 ? col[3] : NULL, e);
}

static void folder_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, len, ".");
    else snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

/* A new, zeroed job at the end of b->jobs (NULL: out of memory). */
static clstyle_batch_job *add_job(clstyle_batch *b, int *cap)
{
    if (b->njobs == *cap) {
        int n = *cap ? 2 * *cap : 64;
        clstyle_batch_job *jobs = realloc(b->jobs, (size_t)n * sizeof *jobs);
        if (!jobs) return NULL;
        b->jobs = jobs;
        *cap = n;
    }
    clstyle_batch_job *j = &b->jobs[b->njobs++];
    memset(j, 0, sizeof *j);
    return j;
}

clstyle_status clstyle_batch_parse(clstyle_batch *b, const char *path, char *text, size_t len, clstyle_error *err)
{
    memset(b, 0, sizeof *b);
    b->path = path;
    b->text = text;
    folder_of(path, b->dir, sizeof b->dir);
    int cap = 0, line = 0;
    for (size_t at = 0; at < len; ) {
        char *start = text + at, *nl = memchr(start, '\n', len - at);
        size_t n = nl ? (size_t)(nl - start) : len - at;
        at += n + 1;
        line++;
        start[n] = '\0';
        if (n && start[n - 1] == '\r') start[--n] = '\0'; /* a manifest saved with CRLF */
        if (start[0] == '#' || (strlen(start) == n && blank(start))) continue;
        clstyle_batch_job *j = add_job(b, &cap);
        if (!j) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
        j->line = line;
        clstyle_error e = {0};
        clstyle_status st = parse_line(j, start, n, &e);
        if (st == CLSTYLE_ERR_USAGE && !(j->error = strdup(e.msg))) st = CLSTYLE_ERR_INTERNAL;
        if (st && st != CLSTYLE_ERR_USAGE) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    }
    return CLSTYLE_OK;
}

clstyle_status clstyle_batch_read(clstyle_batch *b, const char *path, clstyle_error *err)
{
    memset(b, 0, sizeof *b);
    FILE *f;
    clstyle_status st = clstyle_input_fopen(path, "manifest", 0, &f, err);
    if (st) return st;
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap + 1);
    while (text && !ferror(f) && !feof(f) && len <= CLSTYLE_BATCH_MAX_BYTES) {
        if (len == cap) {
            char *t = realloc(text, 2 * cap + 1);
            if (!t) break;
            text = t;
            cap *= 2;
        }
        len += fread(text + len, 1, cap - len, f);
    }
    int e = ferror(f) ? errno : 0;
    int full = text && feof(f);
    fclose(f);
    if (!full || e || len > CLSTYLE_BATCH_MAX_BYTES) {
        free(text);
        if (e) return clstyle_err_set(err, CLSTYLE_ERR_NOINPUT, "manifest %s: cannot read: %s", path, strerror(e));
        if (len > CLSTYLE_BATCH_MAX_BYTES)
            return clstyle_err_set(err, CLSTYLE_ERR_DATA, "manifest %s: larger than %u MiB", path,
                                   CLSTYLE_BATCH_MAX_BYTES >> 20);
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory reading manifest %s", path);
    }
    text[len] = '\0';
    return clstyle_batch_parse(b, path, text, len, err);
}

void clstyle_batch_free(clstyle_batch *b)
{
    for (int i = 0; i < b->njobs; i++) {
        free(b->jobs[i].words);
        free(b->jobs[i].error);
    }
    free(b->jobs);
    free(b->text);
    memset(b, 0, sizeof *b);
}

clstyle_status clstyle_batch_resolve(const clstyle_batch *b, const char *path, char *out, size_t len,
                                     clstyle_error *err)
{
    int n = path[0] == '/' || !strcmp(b->dir, ".") ? snprintf(out, len, "%s", path)
                                                   : snprintf(out, len, "%s/%s", b->dir, path);
    if (n < 0 || (size_t)n >= len)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s: a path of more than %zu bytes", path, len - 1);
    return CLSTYLE_OK;
}

/* ---- shards ---- */

/* A whole number 0..1e9 (digits only) from a flag or variable; -1 when it is not one. */
static long whole(const char *s)
{
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return *end || errno || v > 1000000000L ? -1 : v;
}

static int set(const char *s)
{
    return s && *s;
}

clstyle_status clstyle_batch_shard_parse(const char *arg, clstyle_batch_shard *s, clstyle_error *err)
{
    char k[32], n[32];
    const char *slash = strchr(arg, '/');
    if (slash && (size_t)(slash - arg) < sizeof k && strlen(slash + 1) < sizeof n) {
        snprintf(k, sizeof k, "%.*s", (int)(slash - arg), arg);
        snprintf(n, sizeof n, "%s", slash + 1);
        long kv = whole(k), nv = whole(n);
        if (kv >= 1 && nv >= 1 && kv <= nv) {
            s->k = (int)kv;
            s->n = (int)nv;
            snprintf(s->from, sizeof s->from, "--shard %ld/%ld", kv, nv);
            return CLSTYLE_OK;
        }
    }
    return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                           "--shard '%s': expected K/N with whole numbers 1 <= K <= N (shards count from 1)", arg);
}

/* Slurm: the task's place in its array, --array=MIN-MAX[:STEP] (every task has the same
 * COUNT; a list such as 1,3,7 cannot be mapped onto shards and is refused). */
static clstyle_status from_slurm(const clstyle_batch_env *env, clstyle_batch_shard *s, clstyle_error *err)
{
    const struct {
        const char *name, *value;
        long def, lo; /* def: the value when unset (-1: required); lo: the least allowed */
    } var[5] = {{"SLURM_ARRAY_TASK_ID", env->slurm_id, -1, 0},  {"SLURM_ARRAY_TASK_COUNT", env->slurm_count, -1, 1},
                {"SLURM_ARRAY_TASK_MIN", env->slurm_min, 0, 0}, {"SLURM_ARRAY_TASK_STEP", env->slurm_step, 1, 1},
                {"SLURM_ARRAY_TASK_MAX", env->slurm_max, -1, 0}};
    long v[5];
    for (int i = 0; i < 5; i++) {
        v[i] = set(var[i].value) ? whole(var[i].value) : i == 4 ? LONG_MAX : var[i].def;
        if (v[i] < var[i].lo)
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s '%s': expected a whole number of at least %ld (or give "
                                   "--shard K/N)", var[i].name, var[i].value ? var[i].value : "", var[i].lo);
    }
    const long id = v[0], count = v[1], min = v[2], step = v[3], max = v[4], idx = (id - min) / step;
    if (id < min || (id - min) % step || idx >= count || (max != LONG_MAX && (max - min) / step + 1 != count))
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "SLURM_ARRAY_TASK_ID %ld is not one of an array MIN-MAX:STEP of %ld tasks (MIN %ld, "
                               "STEP %ld): run it as --array=0-%ld, or give --shard K/N",
                               id, count, min, step, count - 1);
    s->k = (int)idx + 1;
    s->n = (int)count;
    snprintf(s->from, sizeof s->from, "SLURM_ARRAY_TASK_ID %ld of %ld tasks from %ld", id, count, min);
    return CLSTYLE_OK;
}

/* A Kubernetes indexed Job: JOB_COMPLETION_INDEX (0-based) of --shards N (the Job's
 * completions). Without --shards, s->n is 0 (only --shard can complete it). */
static clstyle_status from_index(const clstyle_batch_env *env, long shards, clstyle_batch_shard *s,
                                 clstyle_error *err)
{
    long i = whole(env->completion_index);
    if (i < 0)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "JOB_COMPLETION_INDEX '%s': expected a whole number",
                               env->completion_index);
    if (shards && i >= shards)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "JOB_COMPLETION_INDEX %ld is not below --shards %ld (indices count from 0)", i, shards);
    s->k = (int)i + 1;
    s->n = (int)shards;
    snprintf(s->from, sizeof s->from, "JOB_COMPLETION_INDEX %ld of --shards %ld", i, shards);
    return CLSTYLE_OK;
}

/* --shard against the environment's shard (n 0: its index alone is known). */
static clstyle_status agree(const clstyle_batch_shard *flag, const clstyle_batch_shard *env, clstyle_error *err)
{
    if (flag->k == env->k && (!env->n || flag->n == env->n)) return CLSTYLE_OK;
    char want[32] = "";
    if (env->n) snprintf(want, sizeof want, "shard %d/%d", env->k, env->n);
    else snprintf(want, sizeof want, "shard %d", env->k);
    return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s disagrees with the environment (%s: %s); give one or the other",
                           flag->from, env->from, want);
}

clstyle_status clstyle_batch_shard_pick(const char *flag, long shards, const clstyle_batch_env *env,
                                        clstyle_batch_shard *s, clstyle_error *err)
{
    clstyle_batch_shard f = {0}, e = {0};
    clstyle_status st = flag ? clstyle_batch_shard_parse(flag, &f, err) : CLSTYLE_OK;
    if (st) return st;
    if (flag && shards && shards != f.n)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--shards %ld disagrees with --shard %s", shards, flag);
    if (set(env->slurm_id) && !(st = from_slurm(env, &e, err)) && shards && shards != e.n)
        st = clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--shards %ld disagrees with the Slurm array (%s)", shards, e.from);
    else if (!set(env->slurm_id) && set(env->completion_index)) st = from_index(env, shards, &e, err);
    if (st) return st;
    if (e.k && !e.n && !flag)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "JOB_COMPLETION_INDEX is set (a Kubernetes indexed Job): give --shards N, the Job's "
                               "completions (or --shard K/N)");
    if (!e.k && shards && !flag)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "--shards %ld: no JOB_COMPLETION_INDEX in the environment to say which shard this is "
                               "(give --shard K/N)", shards);
    if (flag && e.k && (st = agree(&f, &e, err))) return st;
    *s = flag ? f : e.k ? e : (clstyle_batch_shard){.k = 1, .n = 1, .from = "every job"};
    return CLSTYLE_OK;
}

int clstyle_batch_in_shard(const clstyle_batch_shard *s, int i)
{
    return i % s->n == s->k - 1;
}

/* ---- outputs two jobs share ---- */

static int by_key(const void *pa, const void *pb)
{
    const clstyle_batch_output *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->job > b->job) - (a->job < b->job);
}

int clstyle_batch_find_duplicate(clstyle_batch_output *outs, int n, clstyle_batch_output *a,
                                 clstyle_batch_output *b)
{
    qsort(outs, (size_t)n, sizeof *outs, by_key);
    int found = 0;
    for (int i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && !strcmp(outs[j].key, outs[i].key); j++) {
            if (outs[j].job == outs[i].job) continue;
            if (!found || outs[j].job < b->job || (outs[j].job == b->job && outs[i].job < a->job)) {
                *a = outs[i];
                *b = outs[j];
                found = 1;
            }
            break;
        }
    }
    return found;
}
