/* Shared pieces of the command line (one file per subcommand). */
#ifndef CLSTYLE_CLI_H
#define CLSTYLE_CLI_H

#include "ctx.h"

int clstyle_cli_open(clstyle_ctx **ctx, const char *spec, int profiling, clstyle_error *err);
/* Prints err (when it still has a message) and returns its exit code. */
int clstyle_cli_fail(clstyle_error *err);
int clstyle_cli_run(int argc, char **argv);
int clstyle_cli_weights(int argc, char **argv);
int clstyle_cli_bench(int argc, char **argv);
int clstyle_cli_tune(int argc, char **argv);
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

#endif
