/* The clstyle command line: subcommands, argument parsing, progress and exit codes.
 * The only place in the project that exits. */
#include <getopt.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctx.h"
#include "device.h"
#include "selftest.h"

static int fail(const clstyle_error *err)
{
    fprintf(stderr, "clstyle: %s\n", err->msg); /* escaped by the library (a build log follows on its own lines) */
    return err->status ? (int)err->status : 70;
}

static void usage_main(FILE *f)
{
    fprintf(f,
            "usage: clstyle -c CONTENT -s STYLE[,STYLE2...] -o OUT.png|OUT.jpg [options]\n"
            "       clstyle devices [--json]\n"
            "       clstyle selftest [-d SPEC]\n"
            "       clstyle weights FILE\n"
            "       clstyle bench [options]\n"
            "       clstyle tune [-d SPEC] [--size N[,N...]] [--force|--verify]\n"
            "       clstyle batch MANIFEST [--shard K/N|--shards N] [options]\n"
            "Run 'clstyle --help' for every option.\n");
}

static int cmd_devices(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: clstyle devices [--json]\nLists every OpenCL device of every platform.\n");
            return 0;
        } else {
            fprintf(stderr, "clstyle devices: unknown argument '%s'\n", argv[i]);
            return CLSTYLE_ERR_USAGE;
        }
    }
    clstyle_error err = {0};
    clstyle_device_desc *list;
    int n;
    clstyle_config cfg;
    clstyle_config_from_env(&cfg);
    if (clstyle_device_list(&list, &n, &err)) {
        clstyle_config_explain_nodevice(&cfg, err.status, &err);
        return fail(&err);
    }
    clstyle_device_print(stdout, list, n, json);
    free(list);
    return 0;
}

/* Opens the device; on a SPEC that matches nothing, prints the list as well. */
int clstyle_cli_open(clstyle_ctx **ctx, const char *spec, int profiling, clstyle_error *err)
{
    clstyle_status st = clstyle_ctx_create(ctx, NULL, spec, profiling, err);
    if (st == CLSTYLE_ERR_NODEVICE && ((spec && *spec) || getenv("CLSTYLE_DEVICE"))) {
        clstyle_device_desc *list;
        int n;
        clstyle_error e2 = {0};
        fprintf(stderr, "clstyle: %s\n", err->msg);
        if (clstyle_device_list(&list, &n, &e2) == CLSTYLE_OK) {
            fprintf(stderr, "available devices:\n");
            clstyle_device_print(stderr, list, n, 0);
            free(list);
        }
        err->msg[0] = '\0';
    }
    if (!st && (*ctx)->notice[0]) clstyle_cli_say("%s", (*ctx)->notice);
    return st;
}

int clstyle_cli_fail(clstyle_error *err)
{
    if (!err->msg[0]) return err->status;
    return fail(err);
}

static int cmd_selftest(int argc, char **argv)
{
    static const struct option opts[] = {{"device", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *spec = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        if (c == 'd') spec = optarg;
        else if (c == 'h') {
            printf("usage: clstyle selftest [-d SPEC]\n");
            return 0;
        } else return CLSTYLE_ERR_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "clstyle selftest: unexpected argument '%s'\n", argv[optind]);
        return CLSTYLE_ERR_USAGE;
    }
    clstyle_error err = {0};
    clstyle_ctx *ctx;
    if (clstyle_cli_open(&ctx, spec, 0, &err)) return clstyle_cli_fail(&err);
    clstyle_status st = clstyle_selftest_run(ctx, stdout, &err);
    clstyle_ctx_free(ctx);
    return st ? fail(&err) : 0;
}

int main(int argc, char **argv)
{
    /* fds 0-2 closed at start would be handed to the first files opened (an image, the
     * --log) and progress would land in them: hold them on /dev/null */
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            if (n >= 0 && n != fd) close(n); /* lower fds were free: n is fd */
        }
    signal(SIGPIPE, SIG_IGN); /* a closed stdout must not kill a run; writes report EPIPE */
    if (argc >= 2) {
        const char *cmd = argv[1];
        if (!strcmp(cmd, "devices")) return cmd_devices(argc - 1, argv + 1);
        if (!strcmp(cmd, "selftest")) return cmd_selftest(argc - 1, argv + 1);
        if (!strcmp(cmd, "weights")) return clstyle_cli_weights(argc - 1, argv + 1);
        if (!strcmp(cmd, "bench")) return clstyle_cli_bench(argc - 1, argv + 1);
        if (!strcmp(cmd, "tune")) return clstyle_cli_tune(argc - 1, argv + 1);
        if (!strcmp(cmd, "batch")) return clstyle_cli_batch(argc - 1, argv + 1);
    }
    if (argc < 2) {
        usage_main(stderr);
        return CLSTYLE_ERR_USAGE;
    }
    return clstyle_cli_run(argc, argv);
}
