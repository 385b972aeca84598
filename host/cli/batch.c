/* `clstyle batch MANIFEST [options]`: the jobs of a manifest (host/batch.c) one after
 * another on one device context (clstyle_session). The common flags come from the command
 * line, a job's own from its line; this process runs its shard; outputs two jobs share are
 * refused before any work; done jobs are skipped and checkpointed ones resumed; one
 * summary line per job on stdout, and the number of failed jobs as the exit status. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "checkpoint.h"
#include "cli.h"
#include "job.h"
#include "paths.h"

#define MAX_FAILED_STATUS 63 /* exit status for that many failed jobs or more (64 and up are usage etc.) */
#define MAX_PATHS (CLSTYLE_MAX_STYLES + 9) /* resolved paths of one job: content, output, styles, 7 options */

enum { OPT_SHARD = CLSTYLE_CLI_OPT_EXTRA, OPT_SHARDS };

static const struct option batch_opts[] = {
    {"shard", required_argument, 0, OPT_SHARD}, {"shards", required_argument, 0, OPT_SHARDS}, {0, 0, 0, 0}};

typedef struct batch {
    clstyle_batch m;            /* the manifest */
    clstyle_cli_runargs common; /* the command line's flags */
    const char *shard_arg;      /* --shard K/N (NULL: none) */
    long shards;                /* --shards N (0: none) */
    clstyle_batch_shard shard;
    clstyle_session *session;
    int ok, skipped, failed;
} batch;

/* One job made ready: the common flags with its line's over them, its paths resolved. */
typedef struct job {
    const clstyle_batch_job *line;
    clstyle_cli_runargs a;
    const char *output;         /* the output resolved (NULL until prepare gets there) */
    char *words;                /* copies of the option words (the parsers cut values in place) */
    char *paths[MAX_PATHS];     /* resolved paths that a's options point to */
    int npaths;
    clstyle_status st;          /* a job that cannot run: why, in msg */
    char msg[1024];
} job;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clstyle batch MANIFEST [--shard K/N|--shards N] [options]\n"
            "Runs the jobs of MANIFEST, one a line: CONTENT, STYLE[,STYLE...], OUTPUT and optional\n"
            "OPTIONS, separated by tabs (lines that are empty or start with # are skipped), one after\n"
            "another on one device context: kernels are compiled and conv choices tuned once.\n"
            "Relative paths in the manifest are relative to its folder. OPTIONS are flags of a plain\n"
            "run, split on spaces, applied after the common ones. The common options are those of a\n"
            "plain run but -c, -s and -o (see clstyle --help), for every job.\n"
            "A job whose OUTPUT exists is skipped, so a rerun goes on where a batch stopped; one whose\n"
            "checkpoint stopped part way is resumed from it.\n"
            "  --shard K/N   jobs K, K+N, K+2N, ... (1-based, comments and empty lines not counted)\n"
            "  --shards N    N shards, this one from JOB_COMPLETION_INDEX (0-based; Kubernetes)\n"
            "Without either, a Slurm array task runs shard (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN)\n"
            "/ SLURM_ARRAY_TASK_STEP + 1 of SLURM_ARRAY_TASK_COUNT; outside an array, every job.\n"
            "Prints a line per job on stdout: MANIFEST:LINE ok|skipped|failed SECONDS OUTPUT (why).\n"
            "Exit status: 0 when every job ran or was skipped, else the number of failed jobs (63 for\n"
            "63 or more); 64 usage (before any job: a bad flag or shard, two jobs with one output),\n"
            "66 manifest unreadable, 130/143 interrupted (the job running keeps a checkpoint, if any).\n");
}

/* ---- the command line ---- */

static int take_extra(void *user, int val, const char *arg)
{
    batch *b = user;
    if (val == OPT_SHARD) b->shard_arg = arg;
    return val == OPT_SHARDS ? clstyle_cli_parse_long("--shards", arg, 1, 1000000, &b->shards) : 0;
}

/* The flags a manifest gives instead: "-c/--content" etc. when a has one, else NULL. */
static const char *column_flag(const clstyle_cli_runargs *a)
{
    return a->o.content ? "-c/--content" : a->has_style ? "-s/--style" : a->o.output ? "-o/--output" : NULL;
}

/* The common flags and MANIFEST; -1 after --help or --version (exit 0). */
static int parse_command(batch *b, int argc, char **argv, const char **manifest)
{
    clstyle_cli_extra extra = {batch_opts, take_extra, b};
    int rest, rc;
    clstyle_cli_runargs_default(&b->common);
    rc = clstyle_cli_run_parse(argc, argv, &extra, &b->common, &rest);
    if (rc == CLSTYLE_CLI_HELP) usage(stdout);
    if (rc == CLSTYLE_CLI_VERSION) printf("clstyle %s\n", CLSTYLE_VERSION);
    if (rc) return rc;
    if (rest != argc - 1) {
        if (rest < argc) clstyle_cli_say("batch: one MANIFEST, not also '%s' (see clstyle batch --help)", argv[rest + 1]);
        else clstyle_cli_say("batch: MANIFEST is required (see clstyle batch --help)");
        return CLSTYLE_ERR_USAGE;
    }
    if (column_flag(&b->common)) {
        clstyle_cli_say("batch: %s comes from the manifest, a column of each line", column_flag(&b->common));
        return CLSTYLE_ERR_USAGE;
    }
    *manifest = argv[rest];
    return 0;
}

static int pick_shard(batch *b)
{
    const clstyle_batch_env env = {getenv("SLURM_ARRAY_TASK_ID"),  getenv("SLURM_ARRAY_TASK_COUNT"),
                                   getenv("SLURM_ARRAY_TASK_MIN"), getenv("SLURM_ARRAY_TASK_MAX"),
                                   getenv("SLURM_ARRAY_TASK_STEP"), getenv("JOB_COMPLETION_INDEX")};
    clstyle_error err = {0};
    if (clstyle_batch_shard_pick(b->shard_arg, b->shards, &env, &b->shard, &err)) {
        clstyle_cli_say("batch: %s", err.msg);
        return CLSTYLE_ERR_USAGE;
    }
    return 0;
}

/* ---- one job's options ---- */

/* The job cannot run: st and why, in J; returns st. */
static int refuse(job *J, clstyle_status st, const char *fmt, ...) CLSTYLE_PRINTF(3, 4);
static int refuse(job *J, clstyle_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(J->msg, sizeof J->msg, fmt, ap);
    va_end(ap);
    J->st = st;
    return st;
}

/* path from the manifest, resolved (kept in J); NULL after saying why in J. */
static const char *resolve(job *J, const clstyle_batch *m, const char *path)
{
    char buf[PATH_MAX];
    clstyle_error err = {0};
    if (J->npaths == MAX_PATHS) return refuse(J, CLSTYLE_ERR_USAGE, "%s: too many paths", path), NULL;
    if (clstyle_batch_resolve(m, path, buf, sizeof buf, &err)) return refuse(J, err.status, "%s", err.msg), NULL;
    if (!(J->paths[J->npaths] = strdup(buf))) return refuse(J, CLSTYLE_ERR_INTERNAL, "out of host memory"), NULL;
    return J->paths[J->npaths++];
}

/* *p resolved when the job's own options set it (it differs from the common flags'). */
static int resolve_own(job *J, const clstyle_batch *m, const char **p, const char *common)
{
    if (!*p || *p == common || !strncmp(*p, "synthetic:", 10)) return 0;
    return (*p = resolve(J, m, *p)) ? 0 : J->st;
}

/* The line's option words over the common flags, in J->a. */
static int parse_words(job *J, const batch *b)
{
    const clstyle_batch_job *l = J->line;
    char *argv[CLSTYLE_BATCH_MAX_WORDS + 2] = {"clstyle"};
    size_t len = 1;
    for (int i = 0; i < l->nopt; i++) len += strlen(l->words[l->nstyle + i]) + 1;
    if (!(J->words = malloc(len))) return refuse(J, CLSTYLE_ERR_INTERNAL, "out of host memory");
    char *at = J->words;
    for (int i = 0; i < l->nopt; i++) {
        argv[i + 1] = strcpy(at, l->words[l->nstyle + i]);
        at += strlen(at) + 1;
    }
    char said[1024];
    int rest, argc = l->nopt + 1;
    J->a = b->common;
    clstyle_cli_capture(said, sizeof said);
    int rc = clstyle_cli_run_parse(argc, argv, NULL, &J->a, &rest);
    clstyle_cli_capture(NULL, 0);
    if (rc < 0) return refuse(J, CLSTYLE_ERR_USAGE, "options column: %s is not a job's option", argv[optind - 1]);
    if (rc) return refuse(J, rc, "options column: %s", said);
    if (rest < argc) return refuse(J, CLSTYLE_ERR_USAGE, "options column: '%s' is not an option", argv[rest]);
    if (column_flag(&J->a))
        return refuse(J, CLSTYLE_ERR_USAGE, "options column: %s is a column of the line, not an option",
                      column_flag(&J->a));
    return 0;
}

/* Job i made ready to run (J->st 0), or the reason it cannot (J->st, J->msg). */
static clstyle_status prepare(const batch *b, int i, job *J)
{
    const clstyle_batch_job *l = &b->m.jobs[i];
    const clstyle_options *c = &b->common.o;
    memset(J, 0, sizeof *J);
    J->line = l;
    if (l->error) return refuse(J, CLSTYLE_ERR_USAGE, "%s", l->error);
    if (parse_words(J, b)) return J->st;
    clstyle_options *o = &J->a.o;
    if (!(o->content = resolve(J, &b->m, l->content)) || !(J->output = o->output = resolve(J, &b->m, l->output)))
        return J->st;
    for (o->nstyle = 0; o->nstyle < l->nstyle; o->nstyle++)
        if (!(o->style[o->nstyle] = resolve(J, &b->m, l->words[o->nstyle]))) return J->st;
    J->a.has_style = 1;
    if (o->init != CLSTYLE_INIT_FILE) o->init_file = NULL;
    const char **own[] = {&o->weights, &o->init_file, &o->log, &o->checkpoint, &o->resume, &o->plot, &o->sheet};
    const char *was[] = {c->weights, c->init_file, c->log, c->checkpoint, c->resume, c->plot, c->sheet};
    for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
        if (resolve_own(J, &b->m, own[k], was[k])) return J->st;
    return CLSTYLE_OK;
}

static void release(job *J)
{
    free(J->words);
    for (int i = 0; i < J->npaths; i++) free(J->paths[i]);
    J->npaths = 0;
    J->words = NULL;
}

/* ---- outputs two jobs share, before any work ---- */

/* The files job J writes (common: the command line's options) as outs entries, their
 * keys and paths malloc'd. */
static int add_outputs(const job *J, const clstyle_options *common, int i, clstyle_batch_output *outs, int *n)
{
    const clstyle_options *o = &J->a.o;
    const char *path[] = {o->output, o->checkpoint, o->log, o->plot, o->sheet};
    const char *given[] = {NULL, common->checkpoint, common->log, common->plot, common->sheet};
    static const char *const flag[] = {"-o/--output", "--checkpoint", "--log", "--plot", "--sheet"};
    for (int k = 0; k < 5; k++) {
        char key[2 * PATH_MAX];
        if (!path[k]) continue;
        clstyle_paths_key(path[k], key, sizeof key);
        clstyle_batch_output *e = &outs[(*n)++];
        *e = (clstyle_batch_output){strdup(key), i, flag[k], strdup(path[k]), path[k] == given[k]};
        if (!e->key || !e->path) return -1;
    }
    return 0;
}

static void say_duplicate(const batch *b, const clstyle_batch_output *x, const clstyle_batch_output *y)
{
    clstyle_cli_say("batch %s: lines %d and %d both write %s (%s %s, %s %s)%s; nothing run", b->m.path,
                    b->m.jobs[x->job].line, b->m.jobs[y->job].line, y->path, x->flag, x->path, y->flag, y->path,
                    x->common || y->common ? ": a file named on the command line is every job's, name it in each "
                                             "line's options instead" : "");
}

/* Every job's outputs (all shards: every process refuses alike): 64 when two share one. */
static int check_outputs(const batch *b)
{
    clstyle_batch_output *outs = calloc((size_t)b->m.njobs * 5 + 1, sizeof *outs), x, y;
    int n = 0, rc = outs ? 0 : CLSTYLE_ERR_INTERNAL;
    for (int i = 0; i < b->m.njobs && !rc; i++) {
        job J;
        if (!prepare(b, i, &J) && add_outputs(&J, &b->common.o, i, outs, &n)) rc = CLSTYLE_ERR_INTERNAL;
        release(&J);
    }
    if (!rc && clstyle_batch_find_duplicate(outs, n, &x, &y)) {
        say_duplicate(b, &x, &y);
        rc = CLSTYLE_ERR_USAGE;
    }
    if (rc == CLSTYLE_ERR_INTERNAL) clstyle_cli_say("batch: out of host memory");
    for (int i = 0; outs && i < n; i++) {
        free((char *)outs[i].key);
        free((char *)outs[i].path);
    }
    free(outs);
    return rc;
}

/* ---- running a job ---- */

static int is_file(const char *path)
{
    struct stat sb;
    return path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

enum { JOB_RUN, JOB_SKIP };

/* Whether the job is done already: its output exists, and its checkpoint (if it has one
 * and the file exists) is at the last iteration. One stopped part way is resumed. */
static int done_already(job *J, char *why, size_t len)
{
    clstyle_options *o = &J->a.o;
    if (o->checkpoint && is_file(o->checkpoint)) {
        clstyle_ckpt at;
        clstyle_error err = {0};
        long total = clstyle_ladder_end(o, o->scales - 1);
        if (clstyle_ckpt_peek(o->checkpoint, &at, &err))
            return refuse(J, err.status, "resuming from its --checkpoint (remove it to start afresh): %s", err.msg),
                   JOB_RUN;
        if (at.iteration < total) {
            if (!o->resume) o->resume = o->checkpoint;
            snprintf(why, len, "resumed after iteration %ld of %ld", at.iteration, total);
            return JOB_RUN;
        }
        snprintf(why, len, "done: its checkpoint is at iteration %ld of %ld", at.iteration, total);
    } else {
        snprintf(why, len, "exists");
    }
    if (is_file(o->output)) return JOB_SKIP;
    why[0] = '\0';
    return JOB_RUN;
}

/* A job that failed or was stopped without a checkpoint to resume from leaves no output
 * (it would pass for done): the image it wrote (the current one at a stop, the last
 * finite one at divergence) is removed. */
static void drop_partial(const job *J, int had_output, char *why, size_t len)
{
    const clstyle_options *o = &J->a.o;
    if (had_output || (o->checkpoint && is_file(o->checkpoint)) || !is_file(o->output)) return;
    if (unlink(o->output) == 0) snprintf(why, len, "; then removed: no checkpoint to resume from");
}

static void summary(const batch *b, const job *J, const char *status, double t0, const char *why)
{
    char line[2400], esc[2400];
    snprintf(line, sizeof line, "%s:%d %s %.2fs %s%s%s%s", b->m.path, J->line->line, status, clstyle_now() - t0,
             J->output ? J->output : J->line->output ? J->line->output : "-", *why ? " (" : "", why,
             *why ? ")" : "");
    clstyle_escape(esc, sizeof esc, line);
    printf("%s\n", esc);
    fflush(stdout);
}

/* J run on the session (J->st: the reason it cannot); why gets what the summary says. */
static clstyle_status execute(batch *b, job *J, char *why, size_t len)
{
    clstyle_error err = {.status = J->st};
    snprintf(err.msg, sizeof err.msg, "%s", J->msg);
    char tail[96] = "";
    const int had_output = is_file(J->a.o.output);
    if (!J->st) {
        clstyle_cli_run_attach(&J->a);
        err.status = clstyle_session_run(b->session, &J->a.o, &err);
        if (err.status) drop_partial(J, had_output, tail, sizeof tail);
    }
    size_t at = strlen(why);
    if (!err.status)
        snprintf(why + at, len - at, "%ssetup %.2fs", at ? "; " : "", clstyle_session_setup_seconds(b->session));
    else if (err.status == CLSTYLE_ERR_INTERRUPTED) /* the exit status says which signal */
        snprintf(why, len, "%s%s", err.msg, tail);
    else
        snprintf(why, len, "%d %s: %s%s", (int)err.status, clstyle_status_name(err.status), err.msg, tail);
    return err.status;
}

/* Job i: skipped, or run (or failed), and summed up. CLSTYLE_ERR_INTERRUPTED stops the batch. */
static clstyle_status run_job(batch *b, int i)
{
    job J;
    char why[1400] = "";
    const double t0 = clstyle_now();
    clstyle_status st = CLSTYLE_OK;
    if (!prepare(b, i, &J) && done_already(&J, why, sizeof why) == JOB_SKIP && !J.st) {
        b->skipped++;
        summary(b, &J, "skipped", t0, why);
    } else {
        st = execute(b, &J, why, sizeof why);
        b->ok += !st;
        b->failed += st && st != CLSTYLE_ERR_INTERRUPTED;
        summary(b, &J, st == CLSTYLE_ERR_INTERRUPTED ? "interrupted" : st ? "failed" : "ok", t0, why);
    }
    release(&J);
    return st == CLSTYLE_ERR_INTERRUPTED || clstyle_cli_stop_signal() ? CLSTYLE_ERR_INTERRUPTED : CLSTYLE_OK;
}

static int run_shard(batch *b)
{
    int mine = 0, ran = 0, stopped = 0;
    for (int i = 0; i < b->m.njobs; i++) mine += clstyle_batch_in_shard(&b->shard, i);
    if (!b->common.quiet)
        clstyle_cli_say("batch %s: %d job%s of %d, shard %d/%d (%s)", b->m.path, mine, mine == 1 ? "" : "s",
                        b->m.njobs, b->shard.k, b->shard.n, b->shard.from);
    clstyle_cli_catch_signals();
    for (int i = 0; i < b->m.njobs && !stopped; i++) {
        if (!clstyle_batch_in_shard(&b->shard, i)) continue;
        if ((stopped = clstyle_cli_stop_signal() != 0)) break;
        ran++;
        stopped = run_job(b, i) == CLSTYLE_ERR_INTERRUPTED;
    }
    if (!b->common.quiet || stopped)
        clstyle_cli_say("batch %s: %d ok, %d skipped, %d failed%s", b->m.path, b->ok, b->skipped, b->failed,
                        stopped ? "; interrupted" : "");
    if (stopped && mine > ran && !b->common.quiet) clstyle_cli_say("batch: %d job(s) not started", mine - ran);
    if (stopped) return 128 + (clstyle_cli_stop_signal() ? clstyle_cli_stop_signal() : SIGINT);
    return b->failed > MAX_FAILED_STATUS ? MAX_FAILED_STATUS : b->failed;
}

int clstyle_cli_batch(int argc, char **argv)
{
    batch b = {0};
    const char *manifest = NULL;
    clstyle_error err = {0};
    int rc = parse_command(&b, argc, argv, &manifest);
    if (rc) return rc < 0 ? 0 : rc;
    if ((rc = pick_shard(&b))) return rc;
    if (clstyle_batch_read(&b.m, manifest, &err)) return clstyle_cli_fail(&err);
    if (!(rc = check_outputs(&b))) {
        if (clstyle_session_new(&b.session, &err)) rc = clstyle_cli_fail(&err);
        else rc = run_shard(&b);
    }
    clstyle_session_free(b.session);
    clstyle_batch_free(&b.m);
    return rc;
}
