/* The run's configuration from the environment, read once: host/config.c is the only
 * library file that calls getenv. A clstyle_config is filled at the start of a job (or
 * of a CLI command), handed to clstyle_ctx_create, which keeps a copy (ctx->cfg), and
 * read from there by the modules that need it. Flags override it where both exist
 * (-d over CLSTYLE_DEVICE, -w over CLSTYLE_WEIGHTS). */
#ifndef CLSTYLE_CONFIG_H
#define CLSTYLE_CONFIG_H

#include "error.h"

typedef struct clstyle_config {
    char device[256];         /* CLSTYLE_DEVICE: the device spec when -d is not given ("" = none) */
    char conv_algo[512];      /* CLSTYLE_CONV_ALGO: one name, or a per-layer comma list ("" = none) */
    int no_tune;              /* CLSTYLE_NO_TUNE set and not "0": the built-in defaults, no measuring */
    int tune_keep_busy;       /* CLSTYLE_TUNE_KEEP_BUSY: cache choices even when timed on a busy machine */
    char conv_options[256];   /* CLSTYLE_CONV_OPTIONS: appended to the default GEMM tile's build options */
    char gemm_row[16];        /* CLSTYLE_GEMM_ROW: cpu or gpu, the kernel tunables row whatever the device type
                                 (tests run the GPU kernels on PoCL with it); "" = by device type */
    char kernel_dir[4096];    /* CLSTYLE_KERNEL_DIR: kernel sources from this folder ("" = embedded) */
    int no_cache;             /* CLSTYLE_NO_CACHE set and not "0": no kernel binary or tuning cache */
    int tile_any;             /* CLSTYLE_TILE_ANY set and not "0": --tile may be under the halo (tests: tiles
                               * on images smaller than a halo; each crop then covers most of the image) */
    int host_state;           /* CLSTYLE_HOST_STATE set and not "0": a tiled run keeps its optimizer state and
                               * content targets in host memory whatever the budget (tests) */
    int equal_shares;         /* CLSTYLE_EQUAL_SHARES set and not "0": several devices (-d all) take equal
                               * bands, none left out, no speed probe (tests: a fixed layout) */
    int rebalance_test;       /* CLSTYLE_REBALANCE_TEST set and not "0": several devices re-cut their bands
                               * after the first iteration, one grid step from the first band to the
                               * second (tests: the re-cut gives the same result) */
    char cache_base[4000];    /* $XDG_CACHE_HOME, else $HOME/.cache ("" = none): PoCL's cache is there too */
    char cache_dir[4096];     /* cache_base/clstyle ("" = none) */
    char weights[4096];       /* the default weights file: $CLSTYLE_WEIGHTS, else
                               * $XDG_DATA_HOME/clstyle/vgg19.safetensors, else
                               * $HOME/.local/share/clstyle/vgg19.safetensors */
} clstyle_config;

/* Fills cfg from the environment (the documented variables above). */
void clstyle_config_from_env(clstyle_config *cfg);

/* A "no device" error st explained when the cache folder is unusable (PoCL then offers
 * no device at all); other statuses pass through. */
clstyle_status clstyle_config_explain_nodevice(const clstyle_config *cfg, clstyle_status st, clstyle_error *err);

#endif
