/* Checkpoints and resume: a run stopped after iteration 3 (through the stop flag that
 * SIGINT sets) and resumed gives the uninterrupted run's final image bit for bit;
 * checkpoints from another configuration, other inputs, or corrupt files are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clstyle.h"
#include "testutil.h"

static char content[4096], style[4096], tmp[4096];
static volatile int stop_flag;

static void stop_at_3(void *user, const clstyle_progress *p)
{
    if (p->iter == 3) stop_flag = 1;
}

static void base(clstyle_options *o, const char *out)
{
    clstyle_options_default(o);
    o->content = content;
    o->style[0] = style;
    o->nstyle = 1;
    o->output = out;
    o->weights = "synthetic:5";
    o->size = 64;
    o->iters = 6;
    o->tv_weight = 3;
}

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static clstyle_status resume_with(const char *ckpt, const char *out, double style_weight, const char *content_path,
                                  clstyle_error *err)
{
    clstyle_options o;
    base(&o, out);
    o.resume = ckpt;
    o.style_weight = style_weight;
    o.content = content_path;
    memset(err, 0, sizeof *err);
    return clstyle_run(&o, err);
}

int main(void)
{
    const char *src = getenv("CLSTYLE_SOURCE_DIR");
    if (!src) src = CLSTYLE_SOURCE_DIR;
    snprintf(content, sizeof content, "%s/tests/golden/content.png", src);
    snprintf(style, sizeof style, "%s/tests/golden/style.png", src);
    snprintf(tmp, sizeof tmp, "%s", tu_tmpdir("checkpoint"));
    char full[4200], part[4200], resumed[4200], ckpt[4200], other[4200];
    snprintf(full, sizeof full, "%s/full.png", tmp);
    snprintf(part, sizeof part, "%s/part.png", tmp);
    snprintf(resumed, sizeof resumed, "%s/resumed.png", tmp);
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", tmp);
    snprintf(other, sizeof other, "%s/other.png", tmp);

    clstyle_options o;
    clstyle_error err = {0};
    base(&o, full);
    CHECK(clstyle_run(&o, &err) == CLSTYLE_OK, "uninterrupted run: %s", err.msg);

    base(&o, part);
    o.checkpoint = ckpt;
    o.stop = &stop_flag;
    o.progress = stop_at_3;
    o.print_every = 1;
    clstyle_status st = clstyle_run(&o, &err);
    CHECK(st == CLSTYLE_ERR_INTERRUPTED, "interrupted run: status %d %s", st, err.msg);
    CHECK(access(ckpt, F_OK) == 0, "no checkpoint written at the stop");

    CHECK(resume_with(ckpt, resumed, 100, content, &err) == CLSTYLE_OK, "resume: %s", err.msg);
    CHECK(same_file(full, resumed), "resumed run's image differs from the uninterrupted run's");
    CHECK(!same_file(full, part), "the interrupted image equals the final one: the test proves nothing");

    st = resume_with(ckpt, other, 50, content, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && strstr(err.msg, "different settings"), "other settings: %d %s", st, err.msg);
    st = resume_with(ckpt, other, 100, style, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && strstr(err.msg, "different content image"), "other content: %d %s", st, err.msg);
    CHECK(access(other, F_OK) != 0, "a refused resume wrote an output");

    /* a truncated checkpoint and a file that is no checkpoint */
    FILE *f = fopen(ckpt, "rb");
    char buf[4096];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/truncated.ckpt", tmp);
    tu_write_file(bad, buf, n / 2);
    st = resume_with(bad, other, 100, content, &err);
    CHECK(st == CLSTYLE_ERR_DATA && strstr(err.msg, "truncated.ckpt"), "truncated: %d %s", st, err.msg);
    st = resume_with(content, other, 100, content, &err);
    CHECK(st == CLSTYLE_ERR_DATA, "a PNG as checkpoint: %d %s", st, err.msg);
    return tu_finish("test_checkpoint");
}
