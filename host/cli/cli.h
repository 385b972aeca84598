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
/* Parses "N[,N...]" (16..8192, at most 8) for `clstyle cmd --size`; prints the error. */
int clstyle_cli_parse_sizes(const char *cmd, char *arg, int *sizes, int *n);

#endif
