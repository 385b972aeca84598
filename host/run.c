/* clstyle_run: jobs (job.h) from files to a written image: one job per scale of the
 * coarse-to-fine ladder (one for a single-scale run), on one device context, each scale
 * starting from the one before enlarged. Checks the outputs before any device work, then
 * runs the loop, syncing with the device only at reporting points: progress, the --log
 * rows, save points, checkpoints, divergence and interruption. A clstyle_session keeps
 * that context from one run to the next (clstyle batch). */
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
#include "hash.h"
#include "image.h"
#include "imgfile.h"
#include "job.h"
#include "mpi.h"
#include "paths.h"
#include "pictures.h"

/* One notice line through the caller's info callback. */
#define info(o, ...) clstyle_notify((o)->info, (o)->progress_user, __VA_ARGS__)

/* A session's weights: the last ones a run loaded, for the next runs that name them. */
typedef struct shared_weights {
    int loaded;
    char spec[4096];          /* -w (or the default file) they were loaded from */
    int nconv;                /* conv layers loaded (the deepest tap's) */
    clstyle_weights w;
    uint64_t key;             /* their fingerprint (a checkpoint key) */
} shared_weights;

/* What outlives one scale's job. */
typedef struct runner {
    const clstyle_options *o; /* the caller's options (a job has its scale's copy) */
    FILE *log;                /* --log, opened at the first reporting point */
    double t0;                /* when the first iteration of the run started */
    long total;               /* iterations of every scale */
    int scale;                /* the scale running (0-based) */
    int started;              /* scales started so far: a later one's notices are said once */
    clstyle_image prev;       /* the result of the scale before, for the next one's start */
    clstyle_pictures pics;    /* --plot and --sheet */
    const clstyle_image *mem; /* clstyle_run_pixels: the content, then the styles, whole (NULL: from files) */
    struct shared_weights *shared; /* a session's weights, kept for its next runs (NULL: no session) */
    int want_result;          /* clstyle_run_pixels: the final image into result */
    clstyle_image result;
} runner;

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
static clstyle_status check_paths(clstyle_job *J, const clstyle_options *o, long total, int mem, clstyle_error *err)
{
    if (!mem && (!o->output || !*o->output)) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "missing -o/--output FILE");
    if (o->output && *o->output && clstyle_imgfile_is_jpeg(o->output) && o->output_bits == 16)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "-o/--output %s: JPEG is 8-bit (give a .png name for 16 bits)",
                               o->output);
    clstyle_paths p;
    clstyle_paths_init(&p);
    clstyle_paths_add(&p, o->output, "-o/--output", 1);
    if (o->save_every > 0 && o->output && *o->output) clstyle_paths_snapshots(&p, 0, o->save_every, 0, total);
    clstyle_paths_add(&p, o->log, "--log", 1);
    clstyle_paths_add(&p, o->checkpoint, "--checkpoint", 1);
    clstyle_paths_add(&p, o->plot, "--plot", 1);
    clstyle_paths_add(&p, o->sheet, "--sheet", 1);
    clstyle_paths_add(&p, o->content, "-c/--content", 0);
    for (int i = 0; i < o->nstyle; i++) clstyle_paths_add(&p, o->style[i], "-s/--style", 0);
    if (o->init == CLSTYLE_INIT_FILE) clstyle_paths_add(&p, o->init_file, "--init", 0);
    const char *w = o->weights && *o->weights ? o->weights : J->cfg.weights;
    if (strncmp(w, "synthetic:", 10)) clstyle_paths_add(&p, w, "-w/--weights", 0);
    clstyle_paths_add(&p, o->resume, "--resume", 0);
    clstyle_status st = clstyle_paths_check(&p, err);
    if (!st && o->output && *o->output) st = check_writable(o->output, "-o/--output", err);
    if (!st && o->log) st = check_writable(o->log, "--log", err);
    if (!st && o->checkpoint) st = check_writable(o->checkpoint, "--checkpoint", err);
    if (!st && o->plot) st = check_writable(o->plot, "--plot", err);
    if (!st && o->sheet) st = check_writable(o->sheet, "--sheet", err);
    return st;
}

/* ---- reporting ---- */

/* The image of src as the run writes it: at the working size, --original-colors applied. */
static clstyle_status read_image(clstyle_job *J, clstyle_tensor src, clstyle_image *img, clstyle_error *err)
{
    clstyle_image oc = {0};
    clstyle_status st = clstyle_image_alloc(img, J->content.w, J->content.h, err);
    if (!st) st = clstyle_ctx_read(J->ctx, src.buf, 0, clstyle_tensor_numel(&src) * 4, img->data, err);
    if (!st && J->o->original_colors) {
        st = clstyle_image_original_colors(img, &J->content, &oc, err);
        if (!st) {
            clstyle_image_free(img);
            *img = oc;
        }
    }
    if (st) clstyle_image_free(img);
    return st;
}

/* src written to path (PNG, or JPEG by the name); nothing when path is NULL (an
 * in-memory run without -o). */
static clstyle_status save_image(clstyle_job *J, const char *path, clstyle_tensor src, clstyle_error *err)
{
    if (!path || !*path) return CLSTYLE_OK;
    clstyle_image img = {0};
    clstyle_status st = read_image(J, src, &img, err);
    if (!st) st = clstyle_imgfile_write(path, &img, J->o->output_bits, J->o->jpeg_quality, err);
    clstyle_image_free(&img);
    return st;
}

/* Iteration k's image as a --sheet frame, when the sheet wants one (end: the run's last). */
static clstyle_status sheet_frame(clstyle_job *J, runner *R, long k, int end, clstyle_error *err)
{
    if (!clstyle_pictures_wants_frame(&R->pics, k, end)) return CLSTYLE_OK;
    clstyle_image img = {0};
    clstyle_status st = read_image(J, J->x, &img, err);
    if (!st) st = clstyle_pictures_frame(&R->pics, k, &img, err);
    clstyle_image_free(&img);
    return st;
}

/* The --log file, created at the first reporting point (a run that fails before its
 * first iteration leaves none behind); its folder was checked up front. */
static clstyle_status open_log(runner *R, clstyle_error *err)
{
    const clstyle_options *o = R->o;
    if (!o->log || R->log) return CLSTYLE_OK;
    int fd = open(o->log, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, 0644);
    struct stat sb;
    if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))) { /* replaced since the check */
        close(fd);
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "--log %s: not a regular file", o->log);
    }
    if (fd < 0 || !(R->log = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) close(fd);
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "--log %s: %s", o->log, strerror(e));
    }
    fprintf(R->log, "iter,total,content,style,tv,seconds,scale\n");
    return CLSTYLE_OK;
}

/* Reads loss rows first..last (1-based iterations), logs and checks them. *bad gets the
 * first iteration with a non-finite loss (0 if none). */
static clstyle_status sync_rows(clstyle_job *J, runner *R, long first, long last, double now, clstyle_progress *p,
                                long *bad, clstyle_error *err)
{
    clstyle_status st = open_log(R, err);
    if (st) return st;
    size_t n = (size_t)(last - first + 1);
    float *rows = malloc(n * CLSTYLE_LOSS_NSLOTS * sizeof(float));
    if (!rows) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    st = clstyle_ctx_read(J->ctx, J->loss.values, (size_t)(first - 1) * CLSTYLE_LOSS_NSLOTS * 4,
                                         n * CLSTYLE_LOSS_NSLOTS * 4, rows, err);
    *bad = 0;
    for (size_t i = 0; i < n && !st; i++) {
        const float *r = rows + i * CLSTYLE_LOSS_NSLOTS;
        double tot = clstyle_options_total(J->o, r);
        /* the device's guard (clstyle_loss_keep_finite) uses the same test */
        if (!(isfinite(r[0]) && isfinite(r[1]) && isfinite(r[2])) && !*bad) *bad = first + (long)i;
        clstyle_pictures_row(&R->pics, first + (long)i, r);
        if (R->log)
            fprintf(R->log, "%ld,%.9g,%.9g,%.9g,%.9g,%.6f,%d\n", first + (long)i, tot, r[0], r[1], r[2], now - R->t0,
                    R->scale + 1);
        if (i + 1 == n) {
            p->iter = last;
            p->total = tot;
            p->content = r[0];
            p->style = r[1];
            p->tv = r[2];
        }
    }
    if (R->log && (fflush(R->log) != 0 || ferror(R->log)) && !st)
        st = clstyle_err_set(err, CLSTYLE_ERR_IO, "writing --log %s failed", R->o->log);
    free(rows);
    return st;
}

/* ---- checkpoints ---- */

static clstyle_status write_checkpoint(clstyle_job *J, const runner *R, long k, clstyle_error *err)
{
    size_t n = clstyle_tensor_numel(&J->x);
    clstyle_ckpt c = {.iteration = k, .h = J->x.h, .w = J->x.w, .x = malloc(n * 4), .seed = J->o->seed,
                      .scale = R->scale + 1, .scales = R->o->scales};
    clstyle_status st = CLSTYLE_OK;
    if (!c.x) st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    if (!st) st = clstyle_ctx_read(J->ctx, J->x.buf, 0, n * 4, c.x, err);
    if (!st) st = clstyle_optim_save(J->ctx, &J->opt, &c, err);
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
        !(st = clstyle_ctx_write(J->ctx, J->x_good.buf, 0, n, c->x, err)))
        st = clstyle_optim_load(J->ctx, &J->opt, c, err);
    J->start = c->iteration;
    clstyle_ckpt_free(&J->ckpt);
    return st;
}

/* At a save point or at exit: the checkpoint (when asked for) and then the image. */
static clstyle_status save_state(clstyle_job *J, const runner *R, long k, const char *image_path, clstyle_error *err)
{
    clstyle_status st = J->o->checkpoint ? write_checkpoint(J, R, k, err) : CLSTYLE_OK;
    return st ? st : save_image(J, image_path, J->x, err);
}

/* ---- the loop ---- */

/* Where the run's image went, for messages: -o, or the caller's memory. */
static const char *written_to(const clstyle_options *o)
{
    return o->output && *o->output ? o->output : "the caller (in memory, no -o)";
}

/* At a stop or divergence: the pictures brought up to iteration k, best effort (the
 * image is what matters; a picture that cannot be written is said, not returned). */
static void pictures_at_end(clstyle_job *J, runner *R, long k)
{
    clstyle_error perr = {0};
    if (clstyle_pictures_plot(&R->pics, 1, clstyle_now(), &perr) || sheet_frame(J, R, k, 1, &perr))
        info(J->o, "%s", perr.msg);
}

/* The image of src as the in-memory caller's result (clstyle_run_pixels). */
static clstyle_status keep_for_caller(clstyle_job *J, runner *R, clstyle_tensor src, clstyle_error *err)
{
    if (!R->want_result) return CLSTYLE_OK;
    clstyle_image_free(&R->result);
    return read_image(J, src, &R->result, err);
}

/* The loss was not finite at iteration bad: write the image the device's guard kept,
 * the last one whose loss was finite (the one iteration bad-1 was computed on), if
 * this run has one. */
static clstyle_status diverged(clstyle_job *J, runner *R, long bad, clstyle_error *err)
{
    const char *hint = "try a lower --lr or other weights";
    if (bad == J->start + 1)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "the loss was not finite at iteration %ld, the first of this %s (%s); nothing written",
                               bad, J->ladder ? "scale" : "run", hint);
    pictures_at_end(J, R, bad - 1);
    clstyle_error werr = {0};
    if (save_image(J, J->o->output, J->x_good, &werr) || keep_for_caller(J, R, J->x_good, &werr))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "the loss stopped being finite at iteration %ld (%s); the last image with a finite "
                               "loss (iteration %ld's) could not be written: %s",
                               bad, hint, bad - 1, werr.msg);
    return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                           "the loss stopped being finite at iteration %ld (%s); wrote the last image with a finite "
                           "loss (the one iteration %ld evaluated) to %s",
                           bad, hint, bad - 1, written_to(J->o));
}

/* A stop after iteration k (its state on the device): the output, checkpoint and
 * caller's image first, then the pictures. */
static clstyle_status stopped(clstyle_job *J, runner *R, long k, int last, const char *when, clstyle_error *err)
{
    clstyle_status st = save_state(J, R, k, J->o->output, err);
    if (!st) st = keep_for_caller(J, R, J->x, err);
    if (st) return st;
    pictures_at_end(J, R, k);
    return clstyle_err_set(err, CLSTYLE_ERR_INTERRUPTED, "interrupted %s; iteration %ld's image written to %s%s", when, k,
                           written_to(J->o), last ? "" : " (before the last scale)");
}

/* The image of this scale into R->prev (the next scale starts from it). */
static clstyle_status keep_result(clstyle_job *J, runner *R, clstyle_error *err)
{
    clstyle_image_free(&R->prev);
    clstyle_status st = clstyle_image_alloc(&R->prev, J->x.w, J->x.h, err);
    return st ? st : clstyle_ctx_read(J->ctx, J->x.buf, 0, clstyle_tensor_numel(&J->x) * 4, R->prev.data, err);
}

/* A stop between the tiles of iteration k (clstyle_job_step): the image, its last good
 * copy and the optimizer state are iteration k-1's, which is saved as a stop after it
 * would be (rows since `reported` first); nothing when k is this job's first. */
static clstyle_status stopped_in_step(clstyle_job *J, runner *R, long k, long reported, int last, clstyle_error *err)
{
    clstyle_progress p = {0};
    long bad = 0;
    if (k - 1 == J->start)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERRUPTED, "interrupted during iteration %ld, the first of this %s; "
                               "nothing written", k, J->ladder ? "scale" : "run");
    clstyle_status st = clstyle_ctx_finish(J->ctx, err);
    p.iters = R->total;
    if (!st && k - 1 > reported) st = sync_rows(J, R, reported + 1, k - 1, clstyle_now(), &p, &bad, err);
    if (!st && bad) return diverged(J, R, bad, err);
    if (st) return st;
    char when[64];
    snprintf(when, sizeof when, "during iteration %ld (between its tiles)", k);
    return stopped(J, R, k - 1, last, when, err);
}

/* The end of the last scale: the output, the sheet's last frame, the in-memory result. */
static clstyle_status finish(clstyle_job *J, runner *R, long end, clstyle_error *err)
{
    clstyle_status st = save_state(J, R, end, J->o->output, err);
    if (!st) st = sheet_frame(J, R, end, 1, err);
    if (!st && R->want_result) st = read_image(J, J->x, &R->result, err);
    return st;
}

/* The iterations of J's scale (J->start + 1 .. J->o->iters, counted across scales). The
 * last scale ends by writing the output; one before it by keeping its image (and a
 * checkpoint when asked for, from which a resumed run goes on at the next scale). */
static clstyle_status optimise(clstyle_job *J, runner *R, int last, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    clstyle_progress p = {0};
    p.iters = R->total;
    p.scale = R->scale + 1;
    p.scales = R->o->scales;
    p.width = J->content.w;
    p.height = J->content.h;
    long reported = J->start, next_report = J->start + 1, k;
    clstyle_status st = CLSTYLE_OK;
    const double t1 = clstyle_now(); /* this scale's first iteration */
    if (!R->t0) R->t0 = t1;
    for (k = J->start + 1; k <= o->iters; k++) {
        if ((st = clstyle_job_step(J, k, err)) == CLSTYLE_ERR_INTERRUPTED) return stopped_in_step(J, R, k, reported, last, err);
        if (st) return st;
        int stop = clstyle_mpi_stopping(o); /* *o->stop; under mpirun as the ranks last agreed (host/mpi.h) */
        int report = k == o->iters || stop || k >= next_report || (o->save_every && k % o->save_every == 0) ||
                     clstyle_pictures_wants_frame(&R->pics, k, 0);
        if (!report) continue;
        long bad = 0;
        double now;
        if ((st = clstyle_ctx_finish(J->ctx, err))) return st;
        now = clstyle_now();
        if ((st = sync_rows(J, R, reported + 1, k, now, &p, &bad, err))) return st;
        if (bad) return diverged(J, R, bad, err);
        double per_it = (now - t1) / (double)(k - J->start);
        p.elapsed = now - R->t0;
        p.it_per_s = per_it > 0 ? 1.0 / per_it : 0;
        int show = o->progress && (o->progress_live || (o->print_every && (k % o->print_every == 0 || k == R->total)));
        if (show) o->progress(o->progress_user, &p);
        reported = k;
        /* the next sync: live progress twice a second; --log rows about once a second
         * (between syncs they wait on the device); otherwise at --print-every */
        next_report = o->print_every ? (k / o->print_every + 1) * o->print_every : LONG_MAX;
        if (o->progress_live || R->log) {
            long step = per_it > 0 ? (long)((o->progress_live ? 0.5 : 1.0) / per_it) : 1;
            long next = k + (step < 1 ? 1 : step);
            if (o->progress_live || next < next_report) next_report = next;
        }
        if (o->save_every && k % o->save_every == 0 && k != R->total) {
            char path[4200] = ""; /* no -o (in memory): the checkpoint alone */
            if (o->output && *o->output) clstyle_paths_numbered(o->output, k, path, sizeof path);
            if ((st = save_state(J, R, k, path, err))) return st;
        }
        if (stop) {
            char when[64];
            snprintf(when, sizeof when, "after iteration %ld", k);
            return stopped(J, R, k, last, when, err);
        }
        /* the pictures after the images: a picture that cannot be written stops the run
         * (as --log does), with this iteration's snapshot already safe */
        if ((st = clstyle_pictures_plot(&R->pics, k == R->total, now, err)) || (st = sheet_frame(J, R, k, 0, err)))
            return st;
    }
    long end = o->iters > J->start ? o->iters : J->start;
    if (last) return finish(J, R, end, err);
    if (o->checkpoint && !(o->save_every && end % o->save_every == 0) && (st = write_checkpoint(J, R, end, err))) return st;
    return keep_result(J, R, err);
}

/* Checks the --resume checkpoint against scale k's job (after its images and weights).
 * *done: it finished that scale (a scale before the last), so the next starts from its
 * image (R->prev). */
static clstyle_status read_resume(clstyle_job *J, runner *R, int k, int *done, clstyle_error *err)
{
    const clstyle_options *o = R->o;
    long first = k ? clstyle_ladder_end(o, k - 1) : 0, end = clstyle_ladder_end(o, k);
    *done = 0;
    clstyle_status st = clstyle_ckpt_read(o->resume, &J->keys, J->content.h, J->content.w, &J->ckpt, err);
    if (st) return st;
    long it = J->ckpt.iteration;
    if (J->ckpt.scales != o->scales)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--resume %s was made with --scales %d, this run has %d",
                               o->resume, J->ckpt.scales, o->scales);
    if (it >= R->total && o->scales == 1)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "--resume %s is at iteration %ld and --iters is %ld: nothing to do (raise --iters)",
                               o->resume, it, o->iters);
    if (it >= R->total)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--resume %s is at iteration %ld, the ladder's last: nothing to do",
                               o->resume, it);
    if (it <= first || it > end)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "--resume %s: iteration %ld is not one of scale %d's (%ld-%ld)",
                               o->resume, it, k + 1, first + 1, end);
    if (it < end) return CLSTYLE_OK;
    *done = 1; /* the scale's last iteration: its image is the next scale's start */
    info(o, "resuming %s: scale %d of %d ended at iteration %ld; scale %d starts from its image", o->resume, k + 1,
         o->scales, it, k + 2);
    clstyle_image_free(&R->prev);
    R->prev = (clstyle_image){.w = J->ckpt.w, .h = J->ckpt.h, .data = J->ckpt.x};
    J->ckpt.x = NULL;
    clstyle_ckpt_free(&J->ckpt);
    return CLSTYLE_OK;
}

/* J's weights: the session's when they are the ones J names, else loaded (and then kept
 * by the session in place of its earlier ones). */
static clstyle_status load_weights(shared_weights *sw, clstyle_job *J, clstyle_error *err)
{
    const char *spec = clstyle_job_weights_spec(J);
    if (sw && sw->loaded && sw->nconv == J->nconv && !strcmp(sw->spec, spec)) {
        clstyle_job_share_weights(J, &sw->w, sw->key);
        return CLSTYLE_OK;
    }
    clstyle_status st = clstyle_job_load_weights(J, err);
    if (st || !sw || strlen(spec) >= sizeof sw->spec) return st;
    if (sw->loaded) clstyle_weights_free(&sw->w);
    clstyle_job_keep_weights(J, &sw->w, &sw->key);
    snprintf(sw->spec, sizeof sw->spec, "%s", spec);
    sw->nconv = J->nconv;
    sw->loaded = 1;
    return CLSTYLE_OK;
}

/* Scale k of the ladder (the whole run when there is one scale) on *ctx (opened by the
 * first scale, handed on). */
static clstyle_status run_scale(runner *R, int k, int resuming, clstyle_ctx **ctx, clstyle_error *err)
{
    const clstyle_options *o = R->o;
    clstyle_options so = *o; /* this scale's options: its size, its last iteration, its start */
    so.scales = 1;
    so.size = clstyle_ladder_side(o, k);
    so.iters = clstyle_ladder_end(o, k);
    so.resume = resuming ? o->resume : NULL;
    if (k) so.init = CLSTYLE_INIT_CONTENT; /* replaced by the scale before's image (or the checkpoint) */
    clstyle_job *J;
    clstyle_status st = clstyle_job_new(&so, 0, &J, err);
    if (st) return st;
    R->scale = k;
    J->start = J->step0 = k ? clstyle_ladder_end(o, k - 1) : 0;
    J->repeat = R->started++ > 0;
    J->final_side = o->size; /* the ladder's last: its L-BFGS history is checked from the first scale on */
    if (o->scales > 1) {
        const double lad[5] = {o->scales, o->scale_factor, (double)o->iters, (double)clstyle_ladder_end(o, 1) - o->iters, k};
        J->ladder = clstyle_hash(CLSTYLE_HASH_INIT, lad, sizeof lad);
    }
    J->ctx = *ctx;
    *ctx = NULL;
    if (J->ctx) J->ctx->peak_device_bytes = J->ctx->device_bytes; /* each scale reports its own peak */
    st = clstyle_job_open_device(J, err);
    if (!st && R->mem) st = clstyle_job_load_images(J, &R->mem[0], &R->mem[1], o->nstyle, err);
    else if (!st) st = clstyle_job_load_files(J, err);
    if (!st) st = load_weights(R->shared, J, err);
    int done = 0, ran = 0;
    if (!st && resuming) st = read_resume(J, R, k, &done, err);
    if (!st && !done && o->scales > 1)
        info(o, "scale %d of %d: content %dx%d, iterations %ld-%ld", k + 1, o->scales, J->content.w, J->content.h,
             J->start + 1, so.iters);
    else if (!st && !done)
        info(o, "content %dx%d, %d style image(s), %ld iterations", J->content.w, J->content.h, o->nstyle, o->iters);
    if (!st && !done && R->prev.data) st = clstyle_job_set_init(J, &R->prev, err);
    if (!st && !done) st = clstyle_job_setup(J, err);
    if (!st && !done && J->ckpt.x) {
        st = resume(J, err);
        if (!st) info(o, "resuming %s at iteration %ld", o->resume, J->start + 1);
    }
    if (!st && !done) {
        ran = 1;
        st = optimise(J, R, k == o->scales - 1, err);
    }
    if (st == CLSTYLE_ERR_INTERRUPTED && !ran && k > 0 && !resuming)
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERRUPTED,
                             "interrupted while setting up scale %d of %d; nothing written%s", k + 1, o->scales,
                             o->checkpoint ? " (the --checkpoint from the end of the scale before resumes the run)" : "");
    *ctx = clstyle_job_release_ctx(J);
    clstyle_job_close(J);
    return st;
}

/* Every entry point: R->mem set or not, R->want_result asked or not, on *ctx (NULL: the
 * first scale opens one), handed back for the next run or to be freed. */
static clstyle_status run_all(runner *R, clstyle_ctx **ctx, clstyle_error *err)
{
    clstyle_options quiet; /* mpirun: ranks past 0 write and show nothing (host/mpi.h) */
    if (clstyle_mpi_rank() > 0) R->o = clstyle_mpi_quiet(R->o, &quiet);
    const clstyle_options *o = R->o;
    int first = 0;
    clstyle_ckpt at = {0};
    clstyle_job *J; /* the settings and the paths checked once, before any file is read */
    clstyle_status st = clstyle_job_new(o, 0, &J, err);
    if (st) return st;
    R->total = clstyle_ladder_end(o, o->scales - 1);
    st = check_paths(J, o, R->total, R->mem != NULL, err);
    clstyle_job_close(J);
    if (!st) st = clstyle_pictures_init(&R->pics, o, R->total, R->mem ? "(in memory)" : o->content, err);
    if (!st && o->resume && o->scales > 1 && !(st = clstyle_ckpt_peek(o->resume, &at, err))) {
        if (at.scales != o->scales)
            st = clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--resume %s was made with --scales %d, this run has %d",
                                 o->resume, at.scales, o->scales);
        first = at.scale - 1;
    }
    for (int k = first; k < o->scales && !st; k++) st = run_scale(R, k, o->resume && k == first, ctx, err);
    if (R->log) fclose(R->log);
    clstyle_image_free(&R->prev);
    clstyle_pictures_free(&R->pics);
    return st;
}

clstyle_status clstyle_run(const clstyle_options *o, clstyle_error *err)
{
    runner R = {.o = o};
    clstyle_ctx *ctx = NULL;
    clstyle_status st = run_all(&R, &ctx, err);
    clstyle_ctx_free(ctx);
    return st;
}

/* ---- several runs on one context ---- */

struct clstyle_session {
    clstyle_ctx *ctx;   /* the last run's device context, kept (NULL: none yet) */
    char spec[256];     /* the -d SPEC (or CLSTYLE_DEVICE) it was opened for */
    shared_weights weights;
    double setup;       /* the last run's seconds from its start to its first iteration */
};

clstyle_status clstyle_session_new(clstyle_session **out, clstyle_error *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? CLSTYLE_OK : clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
}

void clstyle_session_free(clstyle_session *s)
{
    if (!s) return;
    clstyle_ctx_free(s->ctx);
    if (s->weights.loaded) clstyle_weights_free(&s->weights.w);
    free(s);
}

double clstyle_session_setup_seconds(const clstyle_session *s)
{
    return s->setup;
}

/* Whether s's context can serve a run on spec: the same single device, and not filling
 * up with programs and kernels (a run with other tile choices builds more; the binary
 * cache makes a fresh context's builds cheap). */
static int session_reusable(const clstyle_session *s, const char *spec)
{
    const clstyle_ctx *c = s->ctx;
    return c && !strcmp(spec, s->spec) && !clstyle_device_spec_is_many(spec) &&
           c->nprograms <= CLSTYLE_MAX_PROGRAMS / 2 && c->nkernels <= CLSTYLE_MAX_KERNELS / 2 && !c->device_bytes;
}

clstyle_status clstyle_session_run(clstyle_session *s, const clstyle_options *o, clstyle_error *err)
{
    clstyle_config cfg;
    clstyle_config_from_env(&cfg);
    const char *spec = o->device && *o->device ? o->device : cfg.device;
    if (!session_reusable(s, spec)) {
        clstyle_ctx_free(s->ctx);
        s->ctx = NULL;
    }
    snprintf(s->spec, sizeof s->spec, "%s", spec);
    runner R = {.o = o, .shared = &s->weights};
    const double t = clstyle_now();
    clstyle_status st = run_all(&R, &s->ctx, err);
    s->setup = R.t0 ? R.t0 - t : clstyle_now() - t;
    /* after an OpenCL failure the context may be unusable: the next run opens a new one */
    if (st == CLSTYLE_ERR_INTERNAL || st == CLSTYLE_ERR_NODEVICE) {
        clstyle_ctx_free(s->ctx);
        s->ctx = NULL;
    }
    return st;
}

/* ---- images in memory ---- */

void clstyle_pixels_free(clstyle_pixels *p)
{
    if (!p) return;
    free(p->data);
    memset(p, 0, sizeof *p);
}

/* (h, w, 3) interleaved pixels into a (3, h, w) image, every value checked. */
static clstyle_status from_pixels(const clstyle_pixels *px, const char *what, size_t cap, clstyle_image *img,
                                  clstyle_error *err)
{
    if (!px || !px->data || px->width < 1 || px->height < 1)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s: no pixels (width and height must be >= 1, data set)", what);
    if ((double)px->width * px->height > (double)cap)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: %dx%d is more than the limit of %zu pixels", what, px->width,
                               px->height, cap);
    clstyle_status st = clstyle_image_alloc(img, px->width, px->height, err);
    if (st) return st;
    size_t plane = (size_t)px->width * (size_t)px->height;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) {
            float v = px->data[3 * i + (size_t)c];
            if (!isfinite(v)) {
                clstyle_image_free(img);
                return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: pixel %zu (x %zu, y %zu) is not finite", what, i,
                                       i % (size_t)px->width, i / (size_t)px->width);
            }
            img->data[(size_t)c * plane + i] = v;
        }
    return CLSTYLE_OK;
}

static clstyle_status to_pixels(const clstyle_image *img, clstyle_pixels *px, clstyle_error *err)
{
    size_t plane = (size_t)img->w * (size_t)img->h;
    px->data = malloc(plane * 3 * sizeof(float));
    if (!px->data) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory for the result");
    px->width = img->w;
    px->height = img->h;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) px->data[3 * i + (size_t)c] = img->data[(size_t)c * plane + i];
    return CLSTYLE_OK;
}

clstyle_status clstyle_run_pixels(const clstyle_options *o, const clstyle_pixels *content,
                                  const clstyle_pixels *styles, int nstyle, clstyle_pixels *out, clstyle_error *err)
{
    if (out) memset(out, 0, sizeof *out);
    if (!o || !out) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "clstyle_run_pixels: options and out are required");
    if (nstyle < 1 || nstyle > CLSTYLE_MAX_STYLES || !styles)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%d style images: between 1 and %d", nstyle, CLSTYLE_MAX_STYLES);
    clstyle_options mo = *o; /* no file inputs: the images come from here */
    mo.content = NULL;
    mo.nstyle = nstyle;
    memset(mo.style, 0, sizeof mo.style);
    clstyle_image imgs[1 + CLSTYLE_MAX_STYLES] = {{0}};
    size_t cap = o->max_pixels ? o->max_pixels : CLSTYLE_PNG_DEFAULT_MAX_PIXELS;
    clstyle_status st = from_pixels(content, "content pixels", cap, &imgs[0], err);
    for (int i = 0; i < nstyle && !st; i++) {
        char what[32];
        snprintf(what, sizeof what, "style pixels %d", i + 1);
        st = from_pixels(&styles[i], what, cap, &imgs[1 + i], err);
    }
    runner R = {.o = &mo, .mem = imgs, .want_result = 1};
    clstyle_ctx *ctx = NULL;
    if (!st) st = run_all(&R, &ctx, err);
    clstyle_ctx_free(ctx);
    if (R.result.data && (!st || st == CLSTYLE_ERR_INTERRUPTED || st == CLSTYLE_ERR_INTERNAL)) {
        clstyle_error perr = {0};
        if (to_pixels(&R.result, out, &perr)) st = clstyle_err_set(err, perr.status, "%s", perr.msg);
    }
    clstyle_image_free(&R.result);
    for (int i = 0; i <= nstyle; i++) clstyle_image_free(&imgs[i]);
    return st;
}
