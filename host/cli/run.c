/* `clstyle -c CONTENT -s STYLE -o OUT [options]`: option parsing, signals, progress. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mpi.h"
#include "fileio.h"
#include "json.h"

static volatile sig_atomic_t stop_signal;
static volatile int stop_flag;

static void on_signal(int sig)
{
    if (stop_signal) { /* a second signal exits at once, without leaving a half-written file */
        clstyle_atomic_unlink_current();
        _exit(128 + sig);
    }
    stop_signal = sig;
    stop_flag = 1;
}

/* "relu1_1,relu2_1, weight 0.2 each" or "relu4_2" (one weight 1): a default layer list. */
static void layer_list(char *buf, size_t len, const clstyle_layer_weight *l, int n)
{
    size_t at = 0;
    int same = 1;
    for (int i = 0; i < n && at < len; i++) {
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? "," : "", l[i].name);
        same = same && l[i].weight == l[0].weight;
    }
    if (at < len && n > 0 && (!same || l[0].weight != 1.0))
        snprintf(buf + at, len - at, same ? ", weight %g each" : " (weights differ)", l[0].weight);
}

/* The option list; every default is printed from clstyle_options_default, the one place
 * that sets them. */
static void help(void)
{
    clstyle_options d;
    clstyle_options_default(&d);
    char content[256], style[256];
    layer_list(content, sizeof content, d.content_layers, d.ncontent_layers);
    layer_list(style, sizeof style, d.style_layers, d.nstyle_layers);
    printf(
        "usage: clstyle -c CONTENT -s STYLE[,STYLE2...] -o OUT.png|OUT.jpg [options]\n"
        "Paints CONTENT in the style of STYLE (Gatys et al., VGG19, Adam or L-BFGS) on an OpenCL device.\n\n"
        "Inputs and output:\n"
        "  -c, --content FILE        content image (PNG or JPEG; EXIF orientation applied)\n"
        "  -s, --style FILE[,FILE]   style image(s) (PNG or JPEG); repeatable; a FILE that exists is\n"
        "                            taken whole (its name may hold a comma)\n"
        "      --style-blend W[,W]   blend weights of several styles (normalised to sum 1)\n"
        "  -o, --output FILE         output image, written atomically: JPEG when FILE ends in\n"
        "                            .jpg or .jpeg, else PNG\n"
        "  -w, --weights FILE|synthetic:SEED\n"
        "                            VGG19 safetensors (default $CLSTYLE_WEIGHTS, else\n"
        "                            $XDG_DATA_HOME/clstyle/vgg19.safetensors, else\n"
        "                            ~/.local/share/clstyle/vgg19.safetensors)\n"
        "      --output-16bit        write a 16-bit PNG\n"
        "      --quality N           JPEG quality of a .jpg/.jpeg output, 1..100 (%d)\n"
        "Size:\n"
        "      --size N              longest side of the output, %d..%d (%d)\n"
        "      --style-scale F       style images' longest side is N*F (%g)\n"
        "      --scales N            coarse to fine: N sizes up to --size, each the next\n"
        "                            one divided by --scale-factor F (2); (1)\n"
        "      --iters-after N       iterations at each later scale (half of --iters)\n"
        "Optimisation:\n"
        "  -n, --iters N             iterations (%ld; with --scales: at the first one)\n"
        "      --content-weight A    (%g)     --style-weight B (%g)     --tv-weight G (%g)\n"
        "      --optimizer adam|lbfgs  Adam, or L-BFGS as PyTorch's torch.optim.LBFGS (%s)\n"
        "      --lr F                learning rate, pixel units (Adam 2, L-BFGS 1)\n"
        "      --history N           L-BFGS: curvature pairs kept (%d)\n"
        "      --line-search none|strong-wolfe  L-BFGS: a fixed step (none), or PyTorch's\n"
        "                            strong-Wolfe search (more evaluations per iteration)\n"
        "      --preset seed         the seed's own settings (docs/DEFAULTS.md); later flags\n"
        "                            override them\n"
        "      --content-layers L    comma list of NAME[:WEIGHT] (%s)\n"
        "      --style-layers L      (%s)\n"
        "                            NAME is convB_K (before ReLU) or reluB_K (after)\n"
        "      --init noise|content|FILE   starting image (%s)\n"
        "      --seed N              seed of the noise (%llu)\n"
        "      --pooling max|avg     (%s)\n"
        "      --original-colors     keep the content's colours (luminance transfer)\n"
        "Progress:\n"
        "      --print-every N       a progress line every N iterations (%ld; 0 = none)\n"
        "      --save-every N        also write OUT_NNNN.EXT every N iterations\n"
        "      --log FILE            CSV: iter,total,content,style,tv,seconds,scale\n"
        "      --plot FILE.png       loss curves (log scale), rewritten as the run goes\n"
        "      --sheet FILE.png      contact sheet of the image every --save-every iterations\n"
        "                            (without it, every eighth of the run) and at the end\n"
        "      --progress auto|line|json  a live line on a terminal, else plain lines (auto);\n"
        "                            json: one JSON object per reporting point on stderr\n"
        "      --checkpoint FILE     save image + optimizer state every --save-every and at exit\n"
        "      --resume FILE         continue a checkpointed run (same settings and inputs)\n"
        "  -q, --quiet               no progress or notices\n"
        "Memory:\n"
        "      --memory-limit SIZE   device memory the run may hold (512M, 2G; default 90%% of\n"
        "                            the device's); the image is cut into exact tiles when needed\n"
        "      --tile N              exact tiles of N px (a multiple of 16, at least the\n"
        "                            deepest layer's halo: 96 for relu5_1); same result\n"
        "Device:\n"
        "  -d, --device SPEC         index, platform:device, gpu|cpu|accel, or a name substring\n"
        "                            (default $CLSTYLE_DEVICE, else the first GPU, else the CPU);\n"
        "                            all, or SPEC,SPEC,...: one job on those devices together,\n"
        "                            in bands of rows (see clstyle devices)\n"
        "  -h, --help, -V, --version\n\n"
        "Other commands: clstyle devices [--json] | selftest [-d SPEC] | weights FILE |\n"
        "                tune [-d SPEC] [--size N,...] [--force|--verify] [--clblast] | bench [options] |\n"
        "                batch MANIFEST [--shard K/N|--shards N] [options]\n"
        "                (each with --help)\n"
        "Exit codes: 0 ok, 64 usage, 65 bad data, 66 missing input, 69 no device,\n"
        "            70 internal/OpenCL, 73 cannot create output, 74 I/O, 130/143 interrupted.\n",
        d.jpeg_quality, CLSTYLE_MIN_SIDE, CLSTYLE_MAX_SIDE, d.size, d.style_scale, d.iters, d.content_weight, d.style_weight,
        d.tv_weight, d.optimizer == CLSTYLE_OPTIMIZER_LBFGS ? "lbfgs" : "adam", d.history, content, style,
        d.init == CLSTYLE_INIT_CONTENT ? "content" : d.init == CLSTYLE_INIT_FILE ? "FILE" : "noise",
        (unsigned long long)d.seed, d.pooling_avg ? "avg" : "max", d.print_every);
}

static int parse_layers(const char *flag, char *arg, clstyle_layer_weight *out, int *n, double def)
{
    char *items[CLSTYLE_MAX_LAYERS];
    int k = clstyle_cli_split(arg, items, CLSTYLE_MAX_LAYERS, flag);
    if (k < 0) return CLSTYLE_ERR_USAGE;
    for (int i = 0; i < k; i++) {
        char *colon = strchr(items[i], ':');
        out[i].weight = def;
        if (colon) {
            *colon = '\0';
            if (clstyle_cli_parse_double(flag, colon + 1, &out[i].weight)) return CLSTYLE_ERR_USAGE;
        }
        if (strlen(items[i]) >= sizeof out[i].name) {
            clstyle_cli_say("%s: unknown layer '%s'", flag, items[i]);
            return CLSTYLE_ERR_USAGE;
        }
        snprintf(out[i].name, sizeof out[i].name, "%s", items[i]);
    }
    *n = k;
    return 0;
}

/* -s VALUE (repeatable): a value that names an existing file is one style image, whole
 * (so a name with a comma works); otherwise a comma list of files. */
static int add_styles(clstyle_options *o, char *arg)
{
    struct stat sb;
    char *items[CLSTYLE_MAX_STYLES];
    int n = 1;
    items[0] = arg;
    if (stat(arg, &sb) != 0 && (n = clstyle_cli_split(arg, items, CLSTYLE_MAX_STYLES, "--style")) < 0)
        return CLSTYLE_ERR_USAGE;
    for (int i = 0; i < n; i++) {
        if (o->nstyle == CLSTYLE_MAX_STYLES) {
            clstyle_cli_say("--style: at most %d style images", CLSTYLE_MAX_STYLES);
            return CLSTYLE_ERR_USAGE;
        }
        o->style[o->nstyle++] = items[i];
    }
    return 0;
}


/* A JSON number, or null when it is not finite (JSON has no NaN or infinity). */
static void json_number(const char *key, double v)
{
    if (isfinite(v)) fprintf(stderr, ",\"%s\":%.9g", key, v);
    else fprintf(stderr, ",\"%s\":null", key);
}

static void on_info(void *user, const char *line)
{
    const clstyle_cli_progress *m = user;
    if (!m->json) {
        clstyle_cli_say("%s", line);
        return;
    }
    fputs("{\"event\":\"notice\",\"message\":", stderr);
    clstyle_json_write_string(stderr, line);
    fputs("}\n", stderr);
    fflush(stderr);
}

static void progress_json(const clstyle_progress *p, double eta)
{
    fprintf(stderr, "{\"event\":\"progress\",\"iter\":%ld,\"iters\":%ld", p->iter, p->iters);
    json_number("loss", p->total);
    json_number("content", p->content);
    json_number("style", p->style);
    json_number("tv", p->tv);
    json_number("elapsed_s", p->elapsed);
    json_number("it_per_s", p->it_per_s);
    json_number("eta_s", eta);
    fprintf(stderr, ",\"scale\":%d,\"scales\":%d,\"width\":%d,\"height\":%d}\n", p->scale, p->scales, p->width,
            p->height);
}

static void on_progress(void *user, const clstyle_progress *p)
{
    const clstyle_cli_progress *m = user;
    int live = m->live;
    double eta = p->it_per_s > 0 ? (double)(p->iters - p->iter) / p->it_per_s : 0;
    if (m->json) progress_json(p, eta);
    else
        fprintf(stderr, "%siter %ld/%ld  loss %.6g (content %.4g, style %.4g, tv %.4g)  %.2f it/s  ETA %02d:%02d%s",
                live ? "\r\033[K" : "", p->iter, p->iters, p->total, p->content, p->style, p->tv, p->it_per_s,
                (int)(eta / 60), (int)fmod(eta, 60), live ? (p->iter == p->iters ? "\n" : "") : "\n");
    fflush(stderr);
}

/* The run's last line: "wrote OUT", or in JSON an "end" object with the exit status. */
static void say_end(const clstyle_cli_progress *m, int code, const char *msg)
{
    if (clstyle_mpi_rank() != 0) return; /* under mpirun rank 0 says it */
    if (!m->json) {
        clstyle_cli_say("%s", msg);
        return;
    }
    fprintf(stderr, "{\"event\":\"%s\",\"status\":%d,\"message\":", code ? "error" : "done", code);
    clstyle_json_write_string(stderr, msg);
    fputs("}\n", stderr);
}

enum {
    OPT_BLEND = 256, OPT_SIZE, OPT_SSCALE, OPT_CW, OPT_SW, OPT_TW, OPT_LR, OPT_CL, OPT_SL, OPT_INIT, OPT_SEED,
    OPT_POOL, OPT_OC, OPT_PE, OPT_SE, OPT_LOG, OPT_16, OPT_CKPT, OPT_RESUME, OPT_TILE, OPT_MEM,
    OPT_SCALES, OPT_SFACTOR, OPT_IAFTER, OPT_OPTIM, OPT_HIST, OPT_PRESET, OPT_LSEARCH, OPT_QUALITY, OPT_PLOT,
    OPT_SHEET, OPT_PROGRESS
};
_Static_assert(OPT_PROGRESS < CLSTYLE_CLI_OPT_EXTRA, "a run option's value in the commands' own range");

static const struct option run_opts[] = {
    {"content", required_argument, 0, 'c'},     {"style", required_argument, 0, 's'},
    {"style-blend", required_argument, 0, OPT_BLEND}, {"output", required_argument, 0, 'o'},
    {"weights", required_argument, 0, 'w'},     {"size", required_argument, 0, OPT_SIZE},
    {"style-scale", required_argument, 0, OPT_SSCALE}, {"iters", required_argument, 0, 'n'},
    {"content-weight", required_argument, 0, OPT_CW}, {"style-weight", required_argument, 0, OPT_SW},
    {"tv-weight", required_argument, 0, OPT_TW}, {"lr", required_argument, 0, OPT_LR},
    {"content-layers", required_argument, 0, OPT_CL}, {"style-layers", required_argument, 0, OPT_SL},
    {"init", required_argument, 0, OPT_INIT},   {"seed", required_argument, 0, OPT_SEED},
    {"pooling", required_argument, 0, OPT_POOL}, {"original-colors", no_argument, 0, OPT_OC},
    {"print-every", required_argument, 0, OPT_PE}, {"save-every", required_argument, 0, OPT_SE},
    {"log", required_argument, 0, OPT_LOG},     {"output-16bit", no_argument, 0, OPT_16},
    {"checkpoint", required_argument, 0, OPT_CKPT}, {"resume", required_argument, 0, OPT_RESUME},
    {"tile", required_argument, 0, OPT_TILE},   {"memory-limit", required_argument, 0, OPT_MEM},
    {"scales", required_argument, 0, OPT_SCALES}, {"scale-factor", required_argument, 0, OPT_SFACTOR},
    {"iters-after", required_argument, 0, OPT_IAFTER}, {"optimizer", required_argument, 0, OPT_OPTIM},
    {"history", required_argument, 0, OPT_HIST}, {"preset", required_argument, 0, OPT_PRESET},
    {"line-search", required_argument, 0, OPT_LSEARCH}, {"quality", required_argument, 0, OPT_QUALITY},
    {"plot", required_argument, 0, OPT_PLOT},   {"sheet", required_argument, 0, OPT_SHEET},
    {"progress", required_argument, 0, OPT_PROGRESS},
    {"device", required_argument, 0, 'd'},      {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},              {"version", no_argument, 0, 'V'},
    {0, 0, 0, 0}};

/* --style-blend W[,W...] (the count is checked against the styles by the library). */
static int parse_blend(clstyle_options *o, char *arg)
{
    char *items[CLSTYLE_MAX_STYLES];
    int nb = clstyle_cli_split(arg, items, CLSTYLE_MAX_STYLES, "--style-blend");
    if (nb < 0) return CLSTYLE_ERR_USAGE;
    for (int i = 0; i < nb; i++)
        if (clstyle_cli_parse_double("--style-blend", items[i], &o->blend[i])) return CLSTYLE_ERR_USAGE;
    o->nblend = nb;
    return 0;
}

/* One option c of the run (its value in optarg) into a: 0 or CLSTYLE_ERR_USAGE (said). */
static int take_option(clstyle_cli_runargs *a, int c, char *arg)
{
    clstyle_options *o = &a->o;
    int rc = 0;
    long v;
    switch (c) {
    case 'c': o->content = arg; break;
    case 's': rc = add_styles(o, arg); a->has_style = 1; break;
    case OPT_BLEND: rc = parse_blend(o, arg); break;
    case 'o': o->output = arg; break;
    case 'w': o->weights = arg; break;
    case OPT_SIZE: if (!(rc = clstyle_cli_parse_long("--size", arg, CLSTYLE_MIN_SIDE, CLSTYLE_MAX_SIDE, &v))) o->size = (int)v; break;
    case OPT_SSCALE: rc = clstyle_cli_parse_double("--style-scale", arg, &o->style_scale); break;
    case 'n': rc = clstyle_cli_parse_long("--iters", arg, 1, 1000000, &o->iters); break;
    case OPT_SCALES: if (!(rc = clstyle_cli_parse_long("--scales", arg, 1, CLSTYLE_MAX_SCALES, &v))) o->scales = (int)v; break;
    case OPT_SFACTOR: rc = clstyle_cli_parse_double("--scale-factor", arg, &o->scale_factor); break;
    case OPT_IAFTER: rc = clstyle_cli_parse_long("--iters-after", arg, 1, 1000000, &o->iters_after); break;
    case OPT_CW: rc = clstyle_cli_parse_double("--content-weight", arg, &o->content_weight); break;
    case OPT_SW: rc = clstyle_cli_parse_double("--style-weight", arg, &o->style_weight); break;
    case OPT_TW: rc = clstyle_cli_parse_double("--tv-weight", arg, &o->tv_weight); break;
    case OPT_LR:
        if (!(rc = clstyle_cli_parse_double("--lr", arg, &o->lr)) && !(o->lr > 0)) {
            clstyle_cli_say("--lr %s: must be a finite number > 0", arg);
            rc = CLSTYLE_ERR_USAGE;
        }
        break;
    case OPT_OPTIM:
        if (!strcmp(arg, "adam")) o->optimizer = CLSTYLE_OPTIMIZER_ADAM;
        else if (!strcmp(arg, "lbfgs")) o->optimizer = CLSTYLE_OPTIMIZER_LBFGS;
        else {
            clstyle_cli_say("--optimizer '%s': expected adam or lbfgs", arg);
            rc = CLSTYLE_ERR_USAGE;
        }
        break;
    case OPT_LSEARCH: /* PyTorch's line_search_fn: None or "strong_wolfe" */
        if (!strcmp(arg, "none") || !strcmp(arg, "strong-wolfe")) {
            o->line_search = arg[0] == 's';
            break;
        }
        clstyle_cli_say("--line-search '%s': expected none or strong-wolfe", arg);
        rc = CLSTYLE_ERR_USAGE;
        break;
    case OPT_HIST: if (!(rc = clstyle_cli_parse_long("--history", arg, 1, CLSTYLE_MAX_HISTORY, &v))) o->history = (int)v; break;
    case OPT_PRESET:
        if (clstyle_options_preset(o, arg)) {
            clstyle_cli_say("--preset '%s': the one preset is seed", arg);
            rc = CLSTYLE_ERR_USAGE;
        }
        break;
    case OPT_CL: rc = parse_layers("--content-layers", arg, o->content_layers, &o->ncontent_layers, 1.0); break;
    case OPT_SL: rc = parse_layers("--style-layers", arg, o->style_layers, &o->nstyle_layers, 0.2); break;
    case OPT_INIT:
        if (!strcmp(arg, "noise")) o->init = CLSTYLE_INIT_NOISE;
        else if (!strcmp(arg, "content")) o->init = CLSTYLE_INIT_CONTENT;
        else {
            o->init = CLSTYLE_INIT_FILE;
            o->init_file = arg;
        }
        break;
    case OPT_SEED: if (!(rc = clstyle_cli_parse_long("--seed", arg, 0, 0x7fffffffL, &v))) o->seed = (uint64_t)v; break;
    case OPT_POOL:
        if (!strcmp(arg, "max")) o->pooling_avg = 0;
        else if (!strcmp(arg, "avg")) o->pooling_avg = 1;
        else {
            clstyle_cli_say("--pooling '%s': expected max or avg", arg);
            rc = CLSTYLE_ERR_USAGE;
        }
        break;
    case OPT_OC: o->original_colors = 1; break;
    case OPT_PE: rc = clstyle_cli_parse_long("--print-every", arg, 0, 1000000, &o->print_every); break;
    case OPT_SE: rc = clstyle_cli_parse_long("--save-every", arg, 0, 1000000, &o->save_every); break;
    case OPT_LOG: o->log = arg; break;
    case OPT_16: o->output_bits = 16; break;
    case OPT_QUALITY: if (!(rc = clstyle_cli_parse_long("--quality", arg, 1, 100, &v))) o->jpeg_quality = (int)v; break;
    case OPT_PLOT: o->plot = arg; break;
    case OPT_SHEET: o->sheet = arg; break;
    case OPT_PROGRESS:
        if (!strcmp(arg, "auto")) a->progress = CLSTYLE_CLI_PROGRESS_AUTO;
        else if (!strcmp(arg, "line")) a->progress = CLSTYLE_CLI_PROGRESS_LINE;
        else if (!strcmp(arg, "json")) a->progress = CLSTYLE_CLI_PROGRESS_JSON;
        else {
            clstyle_cli_say("--progress '%s': expected auto, line or json", arg);
            rc = CLSTYLE_ERR_USAGE;
        }
        break;
    case OPT_CKPT: o->checkpoint = arg; break;
    case OPT_RESUME: o->resume = arg; break;
    case OPT_MEM: rc = clstyle_cli_parse_bytes("--memory-limit", arg, &o->memory_limit); break;
    case OPT_TILE: if (!(rc = clstyle_cli_parse_long("--tile", arg, 0, CLSTYLE_MAX_SIDE, &v))) o->tile = (int)v; break;
    case 'd': o->device = arg; break;
    case 'q': a->quiet = 1; break;
    }
    return rc;
}

void clstyle_cli_runargs_default(clstyle_cli_runargs *a)
{
    memset(a, 0, sizeof *a);
    clstyle_options_default(&a->o);
    a->progress = CLSTYLE_CLI_PROGRESS_AUTO;
}

/* The run's long options, then extra's (a command's own), into all (max entries). */
static void merge_options(struct option *all, size_t max, const clstyle_cli_extra *extra)
{
    size_t n = 0;
    for (const struct option *p = run_opts; p->name && n + 1 < max; p++) all[n++] = *p;
    for (const struct option *p = extra ? extra->opts : NULL; p && p->name && n + 1 < max; p++) all[n++] = *p;
    memset(&all[n], 0, sizeof all[n]);
}

int clstyle_cli_run_parse(int argc, char **argv, const clstyle_cli_extra *extra, clstyle_cli_runargs *a, int *rest)
{
    struct option all[96];
    merge_options(all, sizeof all / sizeof all[0], extra);
    int c, rc = 0;
    opterr = 0;
    optind = 0; /* glibc: start afresh (a batch parses one argument list after another) */
    while (!rc && (c = getopt_long(argc, argv, ":c:s:o:w:n:d:qhV", all, NULL)) != -1) {
        if (c == 'h') return CLSTYLE_CLI_HELP;
        if (c == 'V') return CLSTYLE_CLI_VERSION;
        if (c == ':') {
            clstyle_cli_say("option %s needs a value", argv[optind - 1]);
            rc = CLSTYLE_ERR_USAGE;
        } else if (c >= CLSTYLE_CLI_OPT_EXTRA && extra) {
            rc = extra->take(extra->user, c, optarg);
        } else if (c == '?') {
            clstyle_cli_say("unknown option '%s' (see clstyle --help)", argv[optind - 1]);
            rc = CLSTYLE_ERR_USAGE;
        } else {
            rc = take_option(a, c, optarg);
        }
    }
    *rest = optind;
    return rc;
}

/* ---- signals and progress ---- */

void clstyle_cli_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int clstyle_cli_stop_signal(void)
{
    return stop_signal;
}

void clstyle_cli_run_attach(clstyle_cli_runargs *a)
{
    clstyle_options *o = &a->o;
    a->mode.live = !a->quiet && a->progress == CLSTYLE_CLI_PROGRESS_AUTO && isatty(STDERR_FILENO);
    a->mode.json = a->progress == CLSTYLE_CLI_PROGRESS_JSON;
    o->info = a->quiet ? NULL : on_info;
    o->progress = a->quiet ? NULL : on_progress;
    o->progress_user = &a->mode;
    o->progress_live = a->mode.live;
    o->stop = &stop_flag;
}

/* The exit code of a finished run, with its last line ("wrote OUT", or the error). */
static int run_end(const clstyle_cli_runargs *a, clstyle_status st, clstyle_error *err)
{
    const clstyle_cli_progress *mode = &a->mode;
    char line[1200];
    if (st == CLSTYLE_ERR_INTERRUPTED) {
        int code = 128 + (stop_signal ? stop_signal : SIGINT);
        if (mode->json) say_end(mode, code, err->msg);
        else if (!a->quiet) fprintf(stderr, "\nclstyle: %s\n", err->msg);
        return code;
    }
    if (st && mode->json && err->msg[0]) {
        say_end(mode, st, err->msg);
        return st;
    }
    if (st) return clstyle_cli_fail(err);
    if (stop_signal) { /* it came during the last iteration or the final write, which completed */
        snprintf(line, sizeof line, "interrupted at the end; image written to %s", a->o.output);
        if (!a->quiet || mode->json) say_end(mode, 128 + stop_signal, line);
        return 128 + stop_signal;
    }
    snprintf(line, sizeof line, "wrote %s", a->o.output);
    if (!a->quiet) say_end(mode, 0, line);
    return 0;
}

int clstyle_cli_run(int argc, char **argv)
{
    clstyle_cli_runargs a;
    clstyle_cli_runargs_default(&a);
    int rest, rc = clstyle_cli_run_parse(argc, argv, NULL, &a, &rest);
    if (rc == CLSTYLE_CLI_HELP) help();
    if (rc == CLSTYLE_CLI_VERSION) printf("clstyle %s\n", CLSTYLE_VERSION);
    if (rc) return rc < 0 ? 0 : rc;
    if (rest < argc) {
        clstyle_cli_say("unexpected argument '%s' (see clstyle --help)", argv[rest]);
        return CLSTYLE_ERR_USAGE;
    }
    if (!a.o.content || !a.has_style || !a.o.output) {
        clstyle_cli_say("%s is required (see clstyle --help)",
                !a.o.content ? "-c/--content" : !a.has_style ? "-s/--style" : "-o/--output");
        return CLSTYLE_ERR_USAGE;
    }
    clstyle_cli_run_attach(&a);
    clstyle_cli_catch_signals();
    clstyle_error err = {0};
    clstyle_status st = clstyle_run(&a.o, &err);
    return run_end(&a, st, &err);
}
