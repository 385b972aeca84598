// What several kernel files share, prepended by the host to every other cl/*.cl file
// before it is compiled (host/program.c; a #line 1 follows it, so compiler messages keep
// each file's own line numbers). Layout constants and the epilogue codes only: tunables
// stay in the file that uses them, behind #ifndef.

// Columns per packed GEMM B panel (gemm.cl's im2col panels, winograd.cl's tiles per
// panel). A layout constant, not a tunable: the host checks it (gemm_config).
#define PANEL 16

// Epilogues of the GEMM and of the Winograd output transform (the host's CLSTYLE_EPI_*
// enum in host/ops/ops.h mirrors these values).
#define EPI_NONE 0       // y = acc
#define EPI_BIAS 1       // y = acc + bias[m]
#define EPI_BIAS_RELU 2  // y = max(acc + bias[m], 0)
#define EPI_MASK 3       // y = mask > 0 ? acc : 0   (the ReLU backward of the layer below)
#define EPI_ADD 4        // y = y + acc   (GEMM only)
