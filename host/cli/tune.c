/* `clstyle tune`: measures the convolution algorithms for a device up front (what a run
 * would otherwise do the first time it meets a layer shape) and keeps the winners in the
 * cache folder; prints each candidate's time and the choice per layer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tune.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clstyle tune [-d SPEC] [--size N[,N...]] [--force|--verify] [--clblast [--fraction F]]\n"
            "Times every convolution algorithm and tile setting on each VGG19 layer shape (to\n"
            "relu5_1) of an N x N image and keeps the fastest per shape in the cache folder\n"
            "($XDG_CACHE_HOME/clstyle or ~/.cache/clstyle). Runs do this by themselves the\n"
            "first time they meet a shape; this does it up front. --force measures again.\n"
            "Each candidate is timed until its fastest passes agree, and the winner and runner-up\n"
            "again; a choice whose timings spread (a busy machine) is used but not kept.\n"
            "--verify re-times every cached choice and measures again the shapes it finds off.\n"
            "--clblast first runs CLBlast's own Xgemm tuner over a fraction F (default 0.01) of\n"
            "its search space and keeps the parameters, so the CLBlast candidate runs tuned;\n"
            "slow (minutes: every configuration tried is compiled), then measures again.\n"
            "Default --size 512 (the default image size).\n");
}

static void print_line(void *user, const char *line)
{
    (void)user;
    printf("%s\n", line);
    fflush(stdout);
}

static int tune_size(clstyle_ctx *ctx, const clstyle_weights *wt, int size, clstyle_tune_mode mode)
{
    clstyle_conv_choice ch[CLSTYLE_VGG_NCONV];
    clstyle_error err = {0};
    if (clstyle_tune_convs(ctx, wt, wt->nconv, size, size, mode, 1, ch, print_line, NULL, &err))
        return clstyle_cli_fail(&err);
    printf("%dx%d on %s:\n", size, size, ctx->dev.name);
    for (int l = 0; l < wt->nconv; l++) {
        char what[200];
        clstyle_conv_choice_describe(&ch[l], what, sizeof what);
        printf("  %-8s %-32s %-9s %9.2f ms\n", clstyle_vgg_layers[l].name, what, clstyle_conv_source_name(ch[l].source), ch[l].ms);
    }
    return 0;
}

int clstyle_cli_tune(int argc, char **argv)
{
    static const struct option opts[] = {{"device", required_argument, 0, 'd'}, {"size", required_argument, 0, 's'},
                                         {"force", no_argument, 0, 'f'},        {"help", no_argument, 0, 'h'},
                                         {"clblast", no_argument, 0, 'c'},      {"fraction", required_argument, 0, 'F'},
                                         {"verify", no_argument, 0, 'v'},
                                         {0, 0, 0, 0}};
    char *dev = NULL, sizes_arg[256] = "512";
    clstyle_tune_mode mode = CLSTYLE_TUNE_AUTO;
    int c, clblast = 0;
    double fraction = 0.01;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dev = optarg; break;
        case 's': snprintf(sizes_arg, sizeof sizes_arg, "%s", optarg); break;
        case 'f': mode = CLSTYLE_TUNE_FORCE; break;
        case 'v': mode = CLSTYLE_TUNE_VERIFY; break;
        case 'c': clblast = 1; break;
        case 'F':
            if (clstyle_cli_parse_double("tune --fraction", optarg, &fraction)) return CLSTYLE_ERR_USAGE;
            if (!(fraction > 0 && fraction <= 1)) {
                fprintf(stderr, "clstyle tune: --fraction '%s': expected a number in (0, 1]\n", optarg);
                return CLSTYLE_ERR_USAGE;
            }
            break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "clstyle tune: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return CLSTYLE_ERR_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "clstyle tune: unexpected argument '%s'\n", argv[optind]);
        return CLSTYLE_ERR_USAGE;
    }
    int sizes[8], nsizes;
    if (clstyle_cli_parse_sizes("tune", sizes_arg, sizes, &nsizes)) return CLSTYLE_ERR_USAGE;

    clstyle_error err = {0};
    clstyle_ctx *ctx = NULL;
    if (clstyle_cli_open(&ctx, dev, 0, &err)) return clstyle_cli_fail(&err);
    int rc = 0;
    clstyle_weights wt;
    memset(&wt, 0, sizeof wt);
    if (!ctx->cache_dir[0]) {
        clstyle_err_set(&err, CLSTYLE_ERR_CANTCREAT,
                        "clstyle tune: the cache is off (CLSTYLE_NO_CACHE, or no writable cache folder): "
                        "nowhere to keep the results");
        rc = clstyle_cli_fail(&err);
        goto done;
    }
    /* timings do not depend on weight values: synthetic ones of the right shapes */
    int last = 0, relu = 0;
    if (clstyle_vgg_parse_layer("relu5_1", &last, &relu, &err) || clstyle_weights_synthetic(&wt, 7, last + 1, &err)) {
        rc = clstyle_cli_fail(&err);
        goto done;
    }
    if (clblast) {
        if (clstyle_tune_clblast(ctx, sizes[0], fraction, print_line, NULL, &err)) {
            rc = clstyle_cli_fail(&err);
            goto done;
        }
        mode = CLSTYLE_TUNE_FORCE; /* CLBlast's timings changed: measure every shape again */
    } else if (!ctx->cfg.no_tune) {
        clstyle_tune_load_xgemm(ctx, print_line, NULL);
    }
    for (int i = 0; i < nsizes && !rc; i++) rc = tune_size(ctx, &wt, sizes[i], mode);
done:
    clstyle_weights_free(&wt);
    clstyle_ctx_free(ctx);
    return rc;
}
