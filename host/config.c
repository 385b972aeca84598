/* Reads the configuration variables once (see config.h); the only getenv of the library. */
#include "config.h"
#include <unistd.h>
#include <sys/stat.h>
#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $name, or "" when unset. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v ? v : "";
}

/* Set, non-empty and not "0". */
static int env_flag(const char *name)
{
    const char *v = env(name);
    return *v && strcmp(v, "0") != 0;
}

void clstyle_config_from_env(clstyle_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->device, sizeof cfg->device, "%s", env("CLSTYLE_DEVICE"));
    snprintf(cfg->conv_algo, sizeof cfg->conv_algo, "%s", env("CLSTYLE_CONV_ALGO"));
    cfg->no_tune = env_flag("CLSTYLE_NO_TUNE");
    cfg->tune_keep_busy = env_flag("CLSTYLE_TUNE_KEEP_BUSY");
    snprintf(cfg->conv_options, sizeof cfg->conv_options, "%s", env("CLSTYLE_CONV_OPTIONS"));
    snprintf(cfg->gemm_row, sizeof cfg->gemm_row, "%s", env("CLSTYLE_GEMM_ROW"));
    snprintf(cfg->kernel_dir, sizeof cfg->kernel_dir, "%s", env("CLSTYLE_KERNEL_DIR"));
    cfg->no_cache = env_flag("CLSTYLE_NO_CACHE");
    cfg->tile_any = env_flag("CLSTYLE_TILE_ANY");
    cfg->host_state = env_flag("CLSTYLE_HOST_STATE");
    cfg->equal_shares = env_flag("CLSTYLE_EQUAL_SHARES");
    cfg->rebalance_test = env_flag("CLSTYLE_REBALANCE_TEST");
    const char *xdg = env("XDG_CACHE_HOME"), *home = env("HOME"), *data = env("XDG_DATA_HOME");
    if (*xdg) snprintf(cfg->cache_base, sizeof cfg->cache_base, "%s", xdg);
    else if (*home) snprintf(cfg->cache_base, sizeof cfg->cache_base, "%s/.cache", home);
    if (cfg->cache_base[0]) snprintf(cfg->cache_dir, sizeof cfg->cache_dir, "%s/clstyle", cfg->cache_base);
    if (*env("CLSTYLE_WEIGHTS")) snprintf(cfg->weights, sizeof cfg->weights, "%s", env("CLSTYLE_WEIGHTS"));
    else if (*data) snprintf(cfg->weights, sizeof cfg->weights, "%s/clstyle/vgg19.safetensors", data);
    else snprintf(cfg->weights, sizeof cfg->weights, "%s/.local/share/clstyle/vgg19.safetensors", *home ? home : ".");
}

clstyle_status clstyle_config_explain_nodevice(const clstyle_config *cfg, clstyle_status st, clstyle_error *err)
{
    if (st != CLSTYLE_ERR_NODEVICE || !cfg->cache_base[0]) return st;
    struct stat sb;
    const char *why = NULL;
    if (stat(cfg->cache_base, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) why = "is not a folder";
        else if (access(cfg->cache_base, W_OK | X_OK) != 0) why = "is not writable";
    } else if (errno != ENOENT) {
        why = "cannot be reached";
    }
    if (!why) return st;
    char msg[sizeof err->msg + sizeof cfg->cache_base + 256];
    snprintf(msg, sizeof msg, "%s (the cache folder %s %s: PoCL keeps its kernel cache there and offers no device "
             "without it; point XDG_CACHE_HOME at a writable folder)", err->msg, cfg->cache_base, why);
    return clstyle_err_set(err, st, "%s", msg);
}
