/* clstyle_run: a job (job.h) from files to a written image. Checks the outputs before
 * any device work, then runs the loop, syncing with the device only at reporting points:
 * progress, the --log rows, save points, checkpoints, divergence and interruption. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "fileio.h"
#include "image.h"
#include "job.h"
#include "paths.h"

/* One notice line through the caller's info callback. */
#define info(o, ...) clstyle_notify((o)->info, (o)->progress_user, __VA_ARGS__)

/* ---- validation before any device work ---- */

/* The folder must exist and take a file: create and discard a temp file now. */
static clstyle_status check_writable(const char *path, const char *flag, clstyle_error *err)
{
    clstyle_atomic_file af;
    if (clstyle_atomic_open(&af, path, err)) return clstyle_err_wrap(err, "%s", flag);
    clstyle_atomic_abort(&af);
    return CLSTYLE_OK;
}

/* Every file the run reads and writes, checked together (paths.h): outputs must be
 * regular files or new (73), none the same file as an input or another output (64),
 * the numbered snapshots included; then the folders must take a new file. */
static clstyle_status check_paths(clstyle_job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    if (!o->output || !*o->output) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "missing -o/--output FILE");
    clstyle_paths p;
    clstyle_paths_init(&p);
    clstyle_paths_add(&p, o->output, "-o/--output", 1);
    if (o->save_every > 0) clstyle_paths_snapshots(&p, 0, o->save_every, 0, o->iters);
    clstyle_paths_add(&p, o->log, "--log", 1);
    clstyle_paths_add(&p, o->checkpoint, "--checkpoint", 1);
    clstyle_paths_add(&p, o->content, "-c/--content", 0);
    for (int i = 0; i < o->nstyle; i++) clstyle_paths_add(&p, o->style[i], "-s/--style", 0);
    if (o->init == CLSTYLE_INIT_FILE) clstyle_paths_add(&p, o->init_file, "--init", 0);
    const char *w = o->weights && *o->weights ? o->weights : J->cfg.weights;
    if (strncmp(w, "synthetic:", 10)) clstyle_paths_add(&p, w, "-w/--weights", 0);
    clstyle_paths_add(&p, o->resume, "--resume", 0);
    clstyle_status st = clstyle_paths_check(&p, err);
    if (!st) st = check_writable(o->output, "-o/--output", err);
    if (!st && o->log) st = check_writable(o->log, "--log", err);
    if (!st && o->checkpoint) st = check_writable(o->checkpoint, "--checkpoint", err);
    return st;
}

/* ---- reporting ---- */

static double total_of(const clstyle_options *o, const float *r)
{
    return o->content_weight * r[0] + o->style_weight * r[1] + o->tv_weight * r[2];
}

static clstyle_status save_image(clstyle_job *J, const char *path, clstyle_tensor src, clstyle_error *err)
{
    clstyle_image img = {0}, oc = {0};
    clstyle_status st = clstyle_image_alloc(&img, J->content.w, J->content.h, err);
    if (!st) st = clstyle_ctx_read(J->ctx, src.buf, 0, clstyle_tensor_numel(&src) * 4, img.data, err);
    if (!st && J->o->original_colors) {
        st = clstyle_image_original_colors(&img, &J->content, &oc, err);
        if (!st) {
            clstyle_image_free(&img);
            img = oc;
        }
    }
    if (!st) st = clstyle_png_write(path, &img, J->o->output_bits, err);
    clstyle_image_free(&img);
    return st;
}

/* The --log file, created at the first reporting point (a run that fails before its
 * first iteration leaves none behind); its folder was checked up front. */
static clstyle_status open_log(clstyle_job *J, clstyle_error *err)
{
    if (!J->o->log || J->log) return CLSTYLE_OK;
    int fd = open(J->o->log, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, 0644);
    struct stat sb;
    if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))) { /* replaced since the check */
        close(fd);
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "--log %s: not a regular file", J->o->log);
    }
    if (fd < 0 || !(J->log = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) close(fd);
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "--log %s: %s", J->o->log, strerror(e));
    }
    fprintf(J->log, "iter,total,content,style,tv,seconds\n");
    return CLSTYLE_OK;
}

/* Reads loss rows first..last (1-based iterations), logs and checks them. *bad gets the
 * first iteration with a non-finite loss (0 if none). */
static clstyle_status sync_rows(clstyle_job *J, long first, long last, double now, clstyle_progress *p, long *bad,
                                clstyle_error *err)
{
    clstyle_status st = open_log(J, err);
    if (st) return st;
    size_t n = (size_t)(last - first + 1);
    float *rows = malloc(n * CLSTYLE_LOSS_NSLOTS * sizeof(float));
    if (!rows) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    st = clstyle_ctx_read(J->ctx, J->loss.values, (size_t)(first - 1) * CLSTYLE_LOSS_NSLOTS * 4,
                                         n * CLSTYLE_LOSS_NSLOTS * 4, rows, err);
    *bad = 0;
    for (size_t i = 0; i < n && !st; i++) {
        const float *r = rows + i * CLSTYLE_LOSS_NSLOTS;
        double tot = total_of(J->o, r);
        /* the device's guard (clstyle_loss_keep_finite) uses the same test */
        if (!(isfinite(r[0]) && isfinite(r[1]) && isfinite(r[2])) && !*bad) *bad = first + (long)i;
        if (J->log)
            fprintf(J->log, "%ld,%.9g,%.9g,%.9g,%.9g,%.6f\n", first + (long)i, tot, r[0], r[1], r[2], now - J->t0);
        if (i + 1 == n) {
            p->iter = last;
            p->total = tot;
            p->content = r[0];
            p->style = r[1];
            p->tv = r[2];
        }
    }
    if (J->log && (fflush(J->log) != 0 || ferror(J->log)) && !st)
        st = clstyle_err_set(err, CLSTYLE_ERR_IO, "writing --log %s failed", J->o->log);
    free(rows);
    return st;
}

/* ---- checkpoints ---- */

static clstyle_status write_checkpoint(clstyle_job *J, long k, clstyle_error *err)
{
    size_t n = clstyle_tensor_numel(&J->x);
    clstyle_ckpt c = {k, J->x.h, J->x.w, malloc(n * 4), malloc(n * 4), malloc(n * 4), J->o->seed};
    clstyle_status st = CLSTYLE_OK;
    if (!c.x || !c.m || !c.v) st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    if (!st) st = clstyle_ctx_read(J->ctx, J->x.buf, 0, n * 4, c.x, err);
    if (!st) st = clstyle_ctx_read(J->ctx, J->opt.state[0].buf, 0, n * 4, c.m, err); /* Adam m */
    if (!st) st = clstyle_ctx_read(J->ctx, J->opt.state[1].buf, 0, n * 4, c.v, err); /* Adam v */
    if (!st) st = clstyle_ckpt_write(J->o->checkpoint, &c, &J->keys, err);
    clstyle_ckpt_free(&c);
    return st;
}

/* Puts a validated checkpoint's state on the device (after clstyle_job_setup). */
static clstyle_status resume(clstyle_job *J, clstyle_error *err)
{
    const clstyle_ckpt *c = &J->ckpt;
    size_t n = clstyle_tensor_numel(&J->x) * 4;
    clstyle_status st;
    if (!(st = clstyle_ctx_write(J->ctx, J->x.buf, 0, n, c->x, err)) &&
        !(st = clstyle_ctx_write(J->ctx, J->x_good.buf, 0, n, c->x, err)) &&
        !(st = clstyle_ctx_write(J->ctx, J->opt.state[0].buf, 0, n, c->m, err)))
        st = clstyle_ctx_write(J->ctx, J->opt.state[1].buf, 0, n, c->v, err);
    J->start = c->iteration;
    clstyle_ckpt_free(&J->ckpt);
    return st;
}

/* At a save point or at exit: the checkpoint (when asked for) and then the image. */
static clstyle_status save_state(clstyle_job *J, long k, const char *image_path, clstyle_error *err)
{
    clstyle_status st = J->o->checkpoint ? write_checkpoint(J, k, err) : CLSTYLE_OK;
    return st ? st : save_image(J, image_path, J->x, err);
}

/* ---- the loop ---- */

/* The loss was not finite at iteration bad: write the image the device's guard kept,
 * the last one whose loss was finite (the one iteration bad-1 was computed on), if
 * this run has one. */
static clstyle_status diverged(clstyle_job *J, long bad, clstyle_error *err)
{
    const char *hint = "try a lower --lr or other weights";
    if (bad == J->start + 1)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "the loss was not finite at iteration %ld, the first of this run (%s); nothing written",
                               bad, hint);
    clstyle_error werr = {0};
    if (save_image(J, J->o->output, J->x_good, &werr))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "the loss stopped being finite at iteration %ld (%s); the last image with a finite "
                               "loss (iteration %ld's) could not be written: %s",
                               bad, hint, bad - 1, werr.msg);
    return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                           "the loss stopped being finite at iteration %ld (%s); wrote the last image with a finite "
                           "loss (the one iteration %ld evaluated) to %s",
                           bad, hint, bad - 1, J->o->output);
}

static clstyle_status optimise(clstyle_job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    clstyle_progress p = {0};
    p.iters = o->iters;
    long reported = J->start, next_report = J->start + 1, k;
    clstyle_status st = CLSTYLE_OK;
    J->t0 = clstyle_now();
    for (k = J->start + 1; k <= o->iters; k++) {
        if ((st = clstyle_job_step(J, k, err))) return st;
        int stop = o->stop && *o->stop;
        int report = k == o->iters || stop || k >= next_report || (o->save_every && k % o->save_every == 0);
        if (!report) continue;
        long bad = 0;
        double now;
        if ((st = clstyle_ctx_finish(J->ctx, err))) return st;
        now = clstyle_now();
        if ((st = sync_rows(J, reported + 1, k, now, &p, &bad, err))) return st;
        if (bad) return diverged(J, bad, err);
        double per_it = (now - J->t0) / (double)(k - J->start);
        p.elapsed = now - J->t0;
        p.it_per_s = per_it > 0 ? 1.0 / per_it : 0;
        int show = o->progress && (o->progress_live || (o->print_every && (k % o->print_every == 0 || k == o->iters)));
        if (show) o->progress(o->progress_user, &p);
        reported = k;
        /* the next sync: live progress twice a second; --log rows about once a second
         * (between syncs they wait on the device); otherwise at --print-every */
        next_report = o->print_every ? (k / o->print_every + 1) * o->print_every : LONG_MAX;
        if (o->progress_live || J->log) {
            long step = per_it > 0 ? (long)((o->progress_live ? 0.5 : 1.0) / per_it) : 1;
            long next = k + (step < 1 ? 1 : step);
            if (o->progress_live || next < next_report) next_report = next;
        }
        if (o->save_every && k % o->save_every == 0 && k != o->iters) {
            char path[4200];
            clstyle_paths_numbered(o->output, k, path, sizeof path);
            if ((st = save_state(J, k, path, err))) return st;
        }
        if (stop) {
            if ((st = save_state(J, k, o->output, err))) return st;
            return clstyle_err_set(err, CLSTYLE_ERR_INTERRUPTED, "interrupted after iteration %ld; image written to %s",
                                   k, o->output);
        }
    }
    return save_state(J, o->iters > J->start ? o->iters : J->start, o->output, err);
}

clstyle_status clstyle_run(const clstyle_options *o, clstyle_error *err)
{
    clstyle_job *J;
    clstyle_status st = clstyle_job_new(o, 0, &J, err);
    if (st) return st;
    st = check_paths(J, err);
    if (!st) st = clstyle_job_open_device(J, err);
    if (!st) st = clstyle_job_load_files(J, err);
    if (!st) st = clstyle_job_load_weights(J, err);
    if (!st) info(o, "content %dx%d, %d style image(s), %ld iterations", J->content.w, J->content.h, o->nstyle, o->iters);
    if (!st && o->resume) st = clstyle_ckpt_read(o->resume, &J->keys, J->content.h, J->content.w, &J->ckpt, err);
    if (!st && o->resume && J->ckpt.iteration >= o->iters)
        st = clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                             "--resume %s is at iteration %ld and --iters is %ld: nothing to do (raise --iters)", o->resume,
                             J->ckpt.iteration, o->iters);
    if (!st) st = clstyle_job_setup(J, err);
    if (!st && o->resume) st = resume(J, err);
    if (!st && o->resume) info(o, "resuming %s at iteration %ld", o->resume, J->start + 1);
    if (!st) st = optimise(J, err);
    clstyle_job_close(J);
    return st;
}
