/* `clstyle bench`: placeholder until the benchmark lands (issue 5). */
#include <stdio.h>

#include "cli.h"

int clstyle_cli_bench(int argc, char **argv)
{
    fprintf(stderr, "clstyle: bench is not implemented yet\n");
    return 70;
}
