#include "cli.h"
#include <stdio.h>
int clstyle_cli_weights(int argc, char **argv) { fprintf(stderr, "not yet\n"); return 70; }
int clstyle_cli_bench(int argc, char **argv) { fprintf(stderr, "not yet\n"); return 70; }
