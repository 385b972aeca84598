/* The one MPI query error.c and fileio.c make, for the fuzz harnesses, which link those
 * files without host/mpi.c (and its job machinery): a harness is always one process,
 * rank 0, as host/mpi.c says outside mpirun. */
#include "mpi.h"

int clstyle_mpi_rank(void)
{
    return 0;
}
