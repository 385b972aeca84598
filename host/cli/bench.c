/* `clstyle bench`: runs the benchmark per device and size and prints tables, JSON
 * (schema in docs/BENCHMARKS.md) or Markdown. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "fileio.h"
#include "json.h"
#include "paths.h"
#include "cli.h"

#define MAX_RUNS 32

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clstyle bench [-d SPEC[,SPEC...]|all] [--size N[,N...]] [--iters N] [-w WEIGHTS]\n"
            "                     [--tile N] [--memory-limit SIZE] [--optimizer adam|lbfgs] [--history N]\n"
            "                     [--json FILE] [--markdown]\n"
            "Times the style-transfer iteration (VGG19 to relu5_1, forward + backward + Adam) on\n"
            "square synthetic images: compile time, s/iteration (median, min, max after a warm-up),\n"
            "GFLOP/s, device and host memory, and a per-operation table of one iteration.\n"
            "--tile N and --memory-limit SIZE run it in exact tiles, as clstyle does. --optimizer\n"
            "lbfgs times L-BFGS instead of Adam (its history then holds at most --iters + 1 pairs).\n"
            "Defaults: the default device, --size 256, --iters 5, --weights synthetic:7.\n");
}

static double gf(double flops, double s)
{
    return s > 0 ? flops / s * 1e-9 : 0;
}

static void print_ops(FILE *f, const clstyle_bench_result *r, int md)
{
    fprintf(f, md ? "\n| op | launches | ms | GFLOP/s | GB/s | share |\n|---|---:|---:|---:|---:|---:|\n"
                  : "  %-20s %8s %10s %9s %8s %7s\n",
            "op", "launches", "ms", "GFLOP/s", "GB/s", "share");
    for (int i = 0; i < r->nops; i++) {
        const clstyle_bench_op *o = &r->ops[i];
        double share = r->ops_total_s > 0 ? 100 * o->seconds / r->ops_total_s : 0;
        if (md)
            fprintf(f, "| %s | %d | %.2f | %.1f | %.1f | %.1f%% |\n", o->label, o->launches, 1e3 * o->seconds,
                    gf(o->flops, o->seconds), gf(o->bytes, o->seconds), share);
        else
            fprintf(f, "  %-20s %8d %10.2f %9.1f %8.1f %6.1f%%\n", o->label, o->launches, 1e3 * o->seconds,
                    gf(o->flops, o->seconds), gf(o->bytes, o->seconds), share);
    }
}

static void print_convs(FILE *f, const clstyle_bench_result *r, int md)
{
    fprintf(f, md ? "\n| layer | algorithm | chosen by | tuning ms |\n|---|---|---|---:|\n"
                  : "  %-8s %-32s %-9s %10s\n",
            "layer", "algorithm", "chosen by", "tuning ms");
    for (int l = 0; l < r->nconv; l++) {
        char what[200];
        clstyle_conv_choice_describe(&r->conv[l], what, sizeof what);
        const char *name = clstyle_vgg_layers[l].name, *src = clstyle_conv_source_name(r->conv[l].source);
        if (md) fprintf(f, "| %s | %s | %s | %.2f |\n", name, what, src, r->conv[l].ms);
        else fprintf(f, "  %-8s %-32s %-9s %10.2f\n", name, what, src, r->conv[l].ms);
    }
}

/* "name 50%, name 50%": the devices used together and their shares of the rows. */
static void shares(const clstyle_bench_result *r, char *buf, size_t len)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->ndevices && k + 1 < len; i++) {
        int w = snprintf(buf + k, len - k, "%s%s %.0f%%", i ? ", " : "", r->devices[i], 100 * r->share[i]);
        if (w < 0) break;
        k += (size_t)w < len - k ? (size_t)w : len - k - 1;
    }
}

static void print_result(FILE *f, const clstyle_bench_result *r, int md)
{
    const char *fmt = md ? "\n### %s (%s), %d×%d\n\n" : "\n== [%d] %s (%s), %dx%d ==\n";
    char all[2200];
    shares(r, all, sizeof all);
    if (r->together) {
        fprintf(f, md ? "\n### all devices: %s, %d×%d\n\n" : "\n== all devices: %s, %dx%d ==\n", all, r->size, r->size);
        fprintf(f, "%sbytes between host and devices: %.1f MiB per iteration (the first device's ops below)\n",
                md ? "- " : "  ", r->moved_per_iter / 1048576.0);
    } else if (md) {
        fprintf(f, fmt, r->dev.name, clstyle_device_type_name(r->dev.type), r->size, r->size);
    } else {
        fprintf(f, fmt, r->dev.index, r->dev.name, clstyle_device_type_name(r->dev.type), r->size, r->size);
    }
    fprintf(f,
            "%sseconds/iteration: median %.4f, min %.4f, max %.4f over %d (%.2f it/s)\n"
            "%sachieved %.1f GFLOP/s (%.2f GFLOP per iteration)\n"
            "%skernel compile: %.2f s cold, %.3f s from the cache\n"
            "%speak device memory %.1f MiB, host peak RSS %.1f MiB\n",
            md ? "- " : "  ", r->sec_median, r->sec_min, r->sec_max, r->iterations, 1 / r->sec_median,
            md ? "- " : "  ", gf(r->flop_per_iter, r->sec_median), r->flop_per_iter * 1e-9, md ? "- " : "  ",
            r->compile_cold_s, r->compile_cached_s, md ? "- " : "  ", r->peak_device_bytes / 1048576.0,
            r->peak_rss_bytes / 1048576.0);
    print_convs(f, r, md);
    print_ops(f, r, md);
}

static void print_compare(FILE *f, const clstyle_bench_result *r, int n, int md)
{
    fprintf(f, md ? "\n### Devices compared\n\n| device | type | size | s/iter | it/s | GFLOP/s | vs first |\n"
                    "|---|---|---:|---:|---:|---:|---:|\n"
                  : "\n== devices compared ==\n  %-44s %-5s %5s %9s %7s %8s %8s\n",
            "device", "type", "size", "s/iter", "it/s", "GFLOP/s", "vs first");
    for (int i = 0; i < n; i++) {
        const clstyle_bench_result *b = NULL;
        for (int j = 0; j < n && !b; j++) b = r[j].size == r[i].size ? &r[j] : NULL;
        double speedup = b && r[i].sec_median > 0 ? b->sec_median / r[i].sec_median : 0;
        char name[2200];
        if (r[i].together) shares(&r[i], name, sizeof name);
        fprintf(f, md ? "| %s%s | %s | %d | %.4f | %.2f | %.1f | %.2f× |\n" : "  %s%-44.44s %-5s %5d %9.4f %7.2f %8.1f %7.2fx\n",
                r[i].together ? "all devices: " : "", r[i].together ? name : r[i].dev.name,
                r[i].together ? "all" : clstyle_device_type_name(r[i].dev.type), r[i].size, r[i].sec_median,
                1 / r[i].sec_median, gf(r[i].flop_per_iter, r[i].sec_median), speedup);
    }
}

static int write_json(const char *path, const clstyle_bench_result *r, int n)
{
    clstyle_atomic_file af;
    clstyle_error err = {0};
    if (clstyle_atomic_open(&af, path, &err)) return clstyle_cli_fail(&err);
    FILE *f = af.fp;
    fprintf(f, "[\n");
    for (int i = 0; i < n; i++) {
        const clstyle_bench_result *b = &r[i];
        fprintf(f, "  {\"tool\": \"clstyle\", \"version\": \"%s\", \"device\": ", CLSTYLE_VERSION);
        clstyle_json_write_string(f, b->dev.name);
        fprintf(f, ", \"type\": \"%s\", \"platform\": ", clstyle_device_type_name(b->dev.type));
        clstyle_json_write_string(f, b->dev.platform_name);
        fprintf(f, ", \"driver\": ");
        clstyle_json_write_string(f, b->dev.driver);
        fprintf(f,
                ", \"size\": %d, \"iterations\": %d, \"sec_per_iter_median\": %.6f, \"sec_per_iter_min\": %.6f, "
                "\"sec_per_iter_max\": %.6f, \"iters_per_sec\": %.4f, \"gflops\": %.3f, \"flop_per_iter\": %.0f, "
                "\"peak_device_bytes\": %.0f, \"peak_rss_bytes\": %.0f, \"compile_cold_s\": %.4f, "
                "\"compile_cached_s\": %.4f, \"convs\": [",
                b->size, b->iterations, b->sec_median, b->sec_min, b->sec_max, 1 / b->sec_median,
                gf(b->flop_per_iter, b->sec_median), b->flop_per_iter, b->peak_device_bytes, b->peak_rss_bytes,
                b->compile_cold_s, b->compile_cached_s);
        for (int l = 0; l < b->nconv; l++) {
            char what[200];
            clstyle_conv_choice_describe(&b->conv[l], what, sizeof what);
            fprintf(f, "%s\n    {\"layer\": \"%s\", \"algorithm\": ", l ? "," : "", clstyle_vgg_layers[l].name);
            clstyle_json_write_string(f, what);
            fprintf(f, ", \"chosen_by\": \"%s\", \"tuning_ms\": %.4f}",
                    clstyle_conv_source_name(b->conv[l].source), b->conv[l].ms);
        }
        fprintf(f, "], \"devices\": [");
        for (int k = 0; k < b->ndevices; k++) {
            fprintf(f, "%s", k ? ", " : "");
            clstyle_json_write_string(f, b->devices[k]);
        }
        fprintf(f, "], \"shares\": [");
        for (int k = 0; k < b->ndevices; k++) fprintf(f, "%s%.4f", k ? ", " : "", b->share[k]);
        fprintf(f, "], \"bytes_moved_per_iter\": %.0f, \"optimizer\": \"%s\", \"history\": %d, ",
                b->moved_per_iter, b->lbfgs ? "lbfgs" : "adam", b->history);
        fprintf(f, "\"ranks\": %d, \"rank_compute_s\": [", b->ranks); /* mpirun (host/mpi.h); 1 without */
        for (int k = 0; k < b->ranks; k++) fprintf(f, "%s%.6f", k ? ", " : "", b->rank_compute_s[k]);
        fprintf(f, "], \"rank_comm_s\": [");
        for (int k = 0; k < b->ranks; k++) fprintf(f, "%s%.6f", k ? ", " : "", b->rank_comm_s[k]);
        fprintf(f, "], \"ops\": [");
        for (int k = 0; k < b->nops; k++) {
            const clstyle_bench_op *o = &b->ops[k];
            fprintf(f, "%s\n    {\"name\": ", k ? "," : "");
            clstyle_json_write_string(f, o->label);
            fprintf(f, ", \"launches\": %d, \"seconds\": %.6f, \"gflops\": %.3f, \"gbps\": %.3f, \"share\": %.4f}",
                    o->launches, o->seconds, gf(o->flops, o->seconds), gf(o->bytes, o->seconds),
                    b->ops_total_s > 0 ? o->seconds / b->ops_total_s : 0);
        }
        fprintf(f, "]}%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, "]\n");
    if (clstyle_atomic_commit(&af, &err)) return clstyle_cli_fail(&err);
    return 0;
}

/* Expands "all" into the indices -d all uses; else splits the comma list. */
static int device_specs(char *arg, char specs[][64], int *n)
{
    *n = 0;
    if (arg && !strcmp(arg, "all")) {
        clstyle_device_desc *list;
        int nd;
        clstyle_error err = {0};
        int idx[CLSTYLE_MAX_DEVICES], count = 0;
        if (clstyle_device_list(&list, &nd, &err)) return clstyle_cli_fail(&err);
        clstyle_device_select_many(list, nd, "all", idx, &count, &err); /* the same hardware once */
        for (int i = 0; i < count; i++) snprintf(specs[(*n)++], 64, "%d", idx[i]);
        free(list);
        return 0;
    }
    if (!arg) {
        specs[(*n)++][0] = '\0';
        return 0;
    }
    for (char *t = strtok(arg, ","); t && *n < 8; t = strtok(NULL, ",")) snprintf(specs[(*n)++], 64, "%s", t);
    return 0;
}

int clstyle_cli_bench(int argc, char **argv)
{
    static const struct option opts[] = {{"device", required_argument, 0, 'd'}, {"size", required_argument, 0, 's'},
                                         {"iters", required_argument, 0, 'n'},  {"weights", required_argument, 0, 'w'},
                                         {"json", required_argument, 0, 'j'},   {"markdown", no_argument, 0, 'm'},
                                         {"tile", required_argument, 0, 't'},  {"memory-limit", required_argument, 0, 'M'},
                                         {"optimizer", required_argument, 0, 'O'}, {"history", required_argument, 0, 'H'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    char *dev = NULL, *json = NULL, sizes_arg[256] = "256";
    int md = 0, c;
    clstyle_options o;
    clstyle_options_default(&o);
    o.iters = 5;
    o.weights = "synthetic:7";
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "d:n:w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dev = optarg; break;
        case 's': snprintf(sizes_arg, sizeof sizes_arg, "%s", optarg); break;
        case 'n':
            if (clstyle_cli_parse_long("bench --iters", optarg, 1, 10000, &o.iters)) return CLSTYLE_ERR_USAGE;
            break;
        case 'w': o.weights = optarg; break;
        case 'j': json = optarg; break;
        case 'M':
            if (clstyle_cli_parse_bytes("bench --memory-limit", optarg, &o.memory_limit)) return CLSTYLE_ERR_USAGE;
            break;
        case 't': {
            long v;
            if (clstyle_cli_parse_long("bench --tile", optarg, 0, CLSTYLE_MAX_SIDE, &v)) return CLSTYLE_ERR_USAGE;
            o.tile = (int)v;
            break;
        }
        case 'O':
            if (!strcmp(optarg, "adam") || !strcmp(optarg, "lbfgs")) {
                o.optimizer = optarg[0] == 'l' ? CLSTYLE_OPTIMIZER_LBFGS : CLSTYLE_OPTIMIZER_ADAM;
                break;
            }
            fprintf(stderr, "clstyle bench: --optimizer '%s': expected adam or lbfgs\n", optarg);
            return CLSTYLE_ERR_USAGE;
        case 'H': {
            long v;
            if (clstyle_cli_parse_long("bench --history", optarg, 1, CLSTYLE_MAX_HISTORY, &v)) return CLSTYLE_ERR_USAGE;
            o.history = (int)v;
            break;
        }
        case 'm': md = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "clstyle bench: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return CLSTYLE_ERR_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "clstyle bench: unexpected argument '%s'\n", argv[optind]);
        return CLSTYLE_ERR_USAGE;
    }
    int sizes[8], nsizes, ndev, rc;
    char specs[8][64], together[256] = "";
    if (dev) snprintf(together, sizeof together, "%s", dev); /* device_specs splits dev in place */
    if ((rc = clstyle_cli_parse_sizes("bench", sizes_arg, sizes, &nsizes)) || (rc = device_specs(dev, specs, &ndev))) return rc;
    if (json) { /* checked before the first measurement, as a run's outputs are */
        clstyle_paths p;
        clstyle_error err = {0};
        clstyle_paths_init(&p);
        clstyle_paths_add(&p, json, "bench --json", 1);
        if (strncmp(o.weights, "synthetic:", 10)) clstyle_paths_add(&p, o.weights, "-w/--weights", 0);
        if (clstyle_paths_check(&p, &err)) return clstyle_cli_fail(&err);
    }
    clstyle_bench_result *res = calloc(MAX_RUNS, sizeof *res);
    if (!res) return CLSTYLE_ERR_INTERNAL;
    int n = 0;
    for (int d = 0; d < ndev && !rc; d++) {
        for (int s = 0; s < nsizes && !rc && n < MAX_RUNS; s++) {
            clstyle_error err = {0};
            fprintf(stderr, "clstyle bench: device %s, %dx%d, %ld iterations%s...\n",
                    specs[d][0] ? specs[d] : "(default)", sizes[s], sizes[s], o.iters,
                    o.optimizer == CLSTYLE_OPTIMIZER_LBFGS ? " of L-BFGS" : "");
            clstyle_ctx *probe;
            if ((rc = clstyle_cli_open(&probe, specs[d], 0, &err))) {
                rc = clstyle_cli_fail(&err);
                break;
            }
            clstyle_ctx_free(probe);
            if (clstyle_bench_run(&o, specs[d], sizes[s], &res[n], &err)) {
                rc = clstyle_cli_fail(&err);
                break;
            }
            print_result(stdout, &res[n], md);
            n++;
        }
    }
    for (int s = 0; s < nsizes && !rc && ndev > 1 && n < MAX_RUNS; s++) { /* then all of them together */
        clstyle_error err = {0};
        fprintf(stderr, "clstyle bench: devices %s together, %dx%d, %ld iterations...\n", together, sizes[s], sizes[s],
                o.iters);
        if (clstyle_bench_run(&o, together, sizes[s], &res[n], &err)) {
            rc = clstyle_cli_fail(&err);
            break;
        }
        print_result(stdout, &res[n], md);
        n++;
    }
    if (!rc && n > 1 && ndev > 1) print_compare(stdout, res, n, md);
    if (!rc && json) rc = write_json(json, res, n);
    free(res);
    return rc;
}
