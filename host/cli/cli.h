/* Shared pieces of the command line (one file per subcommand). */
#ifndef CLSTYLE_CLI_H
#define CLSTYLE_CLI_H

#include <getopt.h>
#include <stddef.h>

#include "ctx.h"

int clstyle_cli_open(clstyle_ctx **ctx, const char *spec, int profiling, clstyle_error *err);
/* Prints err (when it still has a message) and returns its exit code. */
int clstyle_cli_fail(clstyle_error *err);
int clstyle_cli_run(int argc, char **argv);
int clstyle_cli_weights(int argc, char **argv);
int clstyle_cli_bench(int argc, char **argv);
int clstyle_cli_tune(int argc, char **argv);
/* The plain run's flags (host/cli/run.c), parsed into one struct: `clstyle batch` takes
 * the common ones from its command line and each job's from its manifest line. */
enum { CLSTYLE_CLI_PROGRESS_AUTO, CLSTYLE_CLI_PROGRESS_LINE, CLSTYLE_CLI_PROGRESS_JSON };
typedef struct clstyle_cli_progress {
    int live, json;      /* a live line on a terminal; one JSON object per line */
} clstyle_cli_progress;
typedef struct clstyle_cli_runargs {
    clstyle_options o;
    int quiet;           /* -q */
    int progress;        /* --progress: CLSTYLE_CLI_PROGRESS_* */
    int has_style;       /* -s was given */
    clstyle_cli_progress mode; /* set by clstyle_cli_run_attach; o.progress_user points here */
} clstyle_cli_runargs;
/* What clstyle_cli_run_parse returns for -h and -V (nothing printed). */
enum { CLSTYLE_CLI_HELP = -1, CLSTYLE_CLI_VERSION = -2 };
#define CLSTYLE_CLI_OPT_EXTRA 1000 /* the getopt values of a command's own long options start here */
/* A command's own long options next to the run's, each handed to take (0, or
 * CLSTYLE_ERR_USAGE after saying why). */
typedef struct clstyle_cli_extra {
    const struct option *opts; /* ended by an all-zero entry */
    int (*take)(void *user, int val, const char *arg);
    void *user;
} clstyle_cli_extra;

/* a with the defaults of every option. */
void clstyle_cli_runargs_default(clstyle_cli_runargs *a);
/* Parses argv[1..] into a over what it holds (a later flag overrides an earlier one, as
 * on one command line): 0, CLSTYLE_ERR_USAGE (said), or CLSTYLE_CLI_HELP / _VERSION.
 * *rest: the index of the first argument that is not an option (getopt moves them last). */
int clstyle_cli_run_parse(int argc, char **argv, const clstyle_cli_extra *extra, clstyle_cli_runargs *a, int *rest);
/* a->o's notices and progress as -q and --progress ask (on stderr), and the stop flag. */
void clstyle_cli_run_attach(clstyle_cli_runargs *a);
/* SIGINT and SIGTERM ask the run to stop after its iteration (a second one exits). */
void clstyle_cli_catch_signals(void);
/* The signal that asked to stop, or 0. */
int clstyle_cli_stop_signal(void);
int clstyle_cli_batch(int argc, char **argv);

/* The shared argument parsers (host/cli/args.c): each prints a one-line error naming
 * the flag and returns CLSTYLE_ERR_USAGE, or 0. */
#define CLSTYLE_CLI_MAX_SIZES 8
/* A whole finite number. */
int clstyle_cli_parse_double(const char *flag, const char *arg, double *out);
/* A whole integer in lo..hi (overflow is an error). */
int clstyle_cli_parse_long(const char *flag, const char *arg, long lo, long hi, long *out);
/* A byte count: digits with an optional K, M, G or T (powers of 1024; "512M", "2G"),
 * more than zero, without overflow. */
int clstyle_cli_parse_bytes(const char *flag, const char *arg, unsigned long long *out);
/* Splits a comma list in place into at most max non-empty items; the count, or -1. */
int clstyle_cli_split(char *s, char **items, int max, const char *flag);
/* "N[,N...]" for `clstyle cmd --size`: CLSTYLE_MIN_SIDE..CLSTYLE_MAX_SIDE (the run's
 * limits), at most CLSTYLE_CLI_MAX_SIZES. */
int clstyle_cli_parse_sizes(const char *cmd, char *arg, int *sizes, int *n);

/* One line "clstyle: MESSAGE" on stderr, control characters escaped (MESSAGE may hold
 * arguments as typed). */
void clstyle_cli_say(const char *fmt, ...) CLSTYLE_PRINTF(1, 2);
/* While buf is set, clstyle_cli_say keeps its last MESSAGE there (len bytes) instead of
 * printing it (a batch names the manifest line first); NULL: stderr again. */
void clstyle_cli_capture(char *buf, size_t len);

#endif
