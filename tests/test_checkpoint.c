/* Checkpoints and resume: a run stopped after iteration 3 (through the stop flag that
 * SIGINT sets) and resumed gives the uninterrupted run's final image bit for bit;
 * checkpoints from another configuration, other inputs, or corrupt files are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "clstyle.h"
#include "safetensors.h"
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

/* Flips every bit of the checkpoint at path in turn (into flip): each flipped file must
 * be refused as bad data (65), never resumed and never taken for another configuration. */
static void flip_every_bit(const char *what, const char *path, const char *flip, const clstyle_ckpt_keys *keys, int h,
                           int w)
{
    static unsigned char buf[16384];
    clstyle_ckpt r;
    clstyle_error err = {0};
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    CHECK(n > 0 && n < sizeof buf, "%s checkpoint size %zu", what, n);
    int missed = 0;
    for (size_t i = 0; i < n * 8; i++) {
        buf[i / 8] ^= (unsigned char)(1u << (i % 8));
        tu_write_file(flip, buf, n);
        buf[i / 8] ^= (unsigned char)(1u << (i % 8));
        clstyle_status st = clstyle_ckpt_read(flip, keys, h, w, &r, &err);
        if (st != CLSTYLE_ERR_DATA && missed++ < 3)
            CHECK(0, "%s: bit %zu of byte %zu flipped: status %d (%s)", what, i % 8, i / 8, st,
                  st ? err.msg : "resumed");
        if (!st) clstyle_ckpt_free(&r);
    }
    CHECK(missed == 0, "%s: %d of %zu bit flips were not refused as corrupt", what, missed, n * 8);
}

/* A small checkpoint written by the library, then every single bit of it flipped in
 * turn: each flipped file is refused as bad data (65), never resumed and never taken for
 * another configuration. Then metadata that lies: iteration out of range or not a plain
 * number, a negative Adam v, a missing checksum. */
static void test_corruption(void)
{
    enum { H = 3, W = 4, N = 3 * H * W };
    float x[N], m[N], v[N];
    for (int i = 0; i < N; i++) x[i] = (float)(i * 7 % 255), m[i] = (float)(i % 5) - 2.0f, v[i] = (float)i * 0.25f;
    const clstyle_ckpt_keys keys = {.settings = 0x1111, .weights = 0x2222, .content = 0x3333, .style = 0x4444};
    clstyle_ckpt c = {.iteration = 7, .h = H, .w = W, .x = x, .m = m, .v = v, .seed = 42, .scale = 1, .scales = 1}, r;
    char path[4200], flip[4200];
    snprintf(path, sizeof path, "%s/small.ckpt", tmp);
    snprintf(flip, sizeof flip, "%s/flip.ckpt", tmp);
    clstyle_error err = {0};
    CHECK(clstyle_ckpt_write(path, &c, &keys, &err) == CLSTYLE_OK, "write: %s", err.msg);
    CHECK(clstyle_ckpt_read(path, &keys, H, W, &r, &err) == CLSTYLE_OK && r.iteration == 7 && !memcmp(r.v, v, sizeof v),
          "read back: %s", err.msg);
    clstyle_ckpt_free(&r);
    flip_every_bit("Adam", path, flip, &keys, H, W);

    /* lying metadata, with a valid checksum */
    static const char *const its[] = {"9223372036854775807", "0", "-1", "+5", " 5", "5 ", "1000001", "0x10", ""};
    char ks[4][17];
    snprintf(ks[0], 17, "%016llx", 0x1111ull);
    snprintf(ks[1], 17, "%016llx", 0x2222ull);
    snprintf(ks[2], 17, "%016llx", 0x3333ull);
    snprintf(ks[3], 17, "%016llx", 0x4444ull);
    clstyle_st_out t[3] = {{"x", x, 3, {3, H, W}}, {"adam.m", m, 3, {3, H, W}}, {"adam.v", v, 3, {3, H, W}}};
    for (size_t k = 0; k < sizeof its / sizeof *its; k++) {
        const char *meta[] = {"clstyle.checkpoint", "2", "clstyle.iteration", its[k], "clstyle.seed", "42",
                              "clstyle.settings", ks[0], "clstyle.weights", ks[1], "clstyle.content", ks[2],
                              "clstyle.style", ks[3], NULL};
        CHECK(clstyle_st_write_checked(flip, t, 3, meta, &err) == CLSTYLE_OK, "write: %s", err.msg);
        clstyle_status st = clstyle_ckpt_read(flip, &keys, H, W, &r, &err);
        CHECK(st == CLSTYLE_ERR_DATA && strstr(err.msg, "bad iteration"), "iteration '%s': status %d (%s)", its[k], st,
              err.msg);
        if (!st) clstyle_ckpt_free(&r);
    }
    v[5] = -1.0f;
    CHECK(clstyle_ckpt_write(flip, &c, &keys, &err) == CLSTYLE_OK, "write: %s", err.msg);
    clstyle_status st = clstyle_ckpt_read(flip, &keys, H, W, &r, &err);
    CHECK(st == CLSTYLE_ERR_DATA && strstr(err.msg, "adam.v is negative"), "negative v: %d (%s)", st, err.msg);
    v[5] = 1.0f;
    const char *meta1[] = {"clstyle.checkpoint", "1", "clstyle.iteration", "3", NULL};
    CHECK(clstyle_st_write(flip, t, 3, meta1, &err) == CLSTYLE_OK, "write: %s", err.msg);
    st = clstyle_ckpt_read(flip, &keys, H, W, &r, &err);
    CHECK(st == CLSTYLE_ERR_DATA && strstr(err.msg, "no checksum"), "no checksum: %d (%s)", st, err.msg);
}

/* An L-BFGS checkpoint: its pairs, ro, last gradient, direction and scalars come back as
 * written; every flipped bit is refused as corrupt; a state L-BFGS cannot reach (ro <= 0,
 * more pairs than the history) is refused with 65. */
static void test_lbfgs_file(void)
{
    enum { H = 3, W = 4, N = 3 * H * W, P = 2 };
    float x[N], s[P * N], y[P * N], gp[N], d[N], ro[P] = {0.5f, 2.0f};
    for (int i = 0; i < N; i++) x[i] = (float)(i * 7 % 255), gp[i] = (float)i - 3.0f, d[i] = 0.25f * (float)i;
    for (int i = 0; i < P * N; i++) s[i] = (float)(i % 7) - 3.0f, y[i] = (float)(i % 5) * 0.5f;
    const clstyle_ckpt_keys keys = {.settings = 0x1111, .weights = 0x2222, .content = 0x3333, .style = 0x4444,
                                    .lbfgs = 1, .history = 3};
    clstyle_ckpt c = {.iteration = 4, .h = H, .w = W, .x = x, .seed = 42, .scale = 1, .scales = 1, .lbfgs = 1,
                      .pairs = P, .s = s, .y = y, .ro = ro, .gprev = gp, .d = d, .scalars = {1.0f, 0.125f}},
                 r;
    char path[4200], flip[4200];
    snprintf(path, sizeof path, "%s/lbfgs.ckpt", tmp);
    snprintf(flip, sizeof flip, "%s/lbfgs_flip.ckpt", tmp);
    clstyle_error err = {0};
    CHECK(clstyle_ckpt_write(path, &c, &keys, &err) == CLSTYLE_OK, "write: %s", err.msg);
    clstyle_status st = clstyle_ckpt_read(path, &keys, H, W, &r, &err);
    CHECK(st == CLSTYLE_OK && r.lbfgs && r.pairs == P && !memcmp(r.s, s, sizeof s) && !memcmp(r.y, y, sizeof y) &&
              !memcmp(r.ro, ro, sizeof ro) && !memcmp(r.gprev, gp, sizeof gp) && !memcmp(r.d, d, sizeof d) &&
              r.scalars[0] == 1.0f && r.scalars[1] == 0.125f && !r.m && !r.v,
          "L-BFGS read back: %s", err.msg);
    if (!st) clstyle_ckpt_free(&r);
    flip_every_bit("L-BFGS", path, flip, &keys, H, W);
    ro[1] = -1.0f;
    CHECK(clstyle_ckpt_write(flip, &c, &keys, &err) == CLSTYLE_OK, "write: %s", err.msg);
    st = clstyle_ckpt_read(flip, &keys, H, W, &r, &err);
    CHECK(st == CLSTYLE_ERR_DATA && strstr(err.msg, "lbfgs.ro"), "negative ro: %d (%s)", st, err.msg);
    ro[1] = 2.0f;
    c.scalars[0] = 0.0f; /* a line search may settle on a step of 0 */
    CHECK(clstyle_ckpt_write(flip, &c, &keys, &err) == CLSTYLE_OK, "write: %s", err.msg);
    st = clstyle_ckpt_read(flip, &keys, H, W, &r, &err);
    CHECK(st == CLSTYLE_OK && r.scalars[0] == 0.0f, "a step length of 0: %d (%s)", st, err.msg);
    if (!st) clstyle_ckpt_free(&r);
    c.scalars[0] = -1.0f;
    CHECK(clstyle_ckpt_write(flip, &c, &keys, &err) == CLSTYLE_OK, "write: %s", err.msg);
    st = clstyle_ckpt_read(flip, &keys, H, W, &r, &err);
    CHECK(st == CLSTYLE_ERR_DATA && strstr(err.msg, "lbfgs.scalars"), "a negative step length: %d (%s)", st, err.msg);
    c.scalars[0] = 1.0f;
    const clstyle_ckpt_keys short_keys = {.settings = 0x1111, .weights = 0x2222, .content = 0x3333, .style = 0x4444,
                                          .lbfgs = 1, .history = 1};
    st = clstyle_ckpt_read(path, &short_keys, H, W, &r, &err);
    CHECK(st == CLSTYLE_ERR_DATA && strstr(err.msg, "pair count"), "2 pairs for a history of 1: %d (%s)", st, err.msg);
}

int main(void)
{
    const char *src = getenv("CLSTYLE_SOURCE_DIR");
    if (!src) src = CLSTYLE_SOURCE_DIR;
    snprintf(content, sizeof content, "%s/tests/golden/content.png", src);
    snprintf(style, sizeof style, "%s/tests/golden/style.png", src);
    snprintf(tmp, sizeof tmp, "%s", tu_tmpdir("checkpoint"));
    test_corruption();
    test_lbfgs_file();
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
    CHECK(tu_same_file(full, resumed), "resumed run's image differs from the uninterrupted run's");
    CHECK(!tu_same_file(full, part), "the interrupted image equals the final one: the test proves nothing");

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
    /* a checkpoint already at --iters: refused, naming both */
    clstyle_options o2;
    base(&o2, other);
    o2.resume = ckpt;
    o2.iters = 4;
    st = clstyle_run(&o2, &err);
    CHECK(st == CLSTYLE_ERR_USAGE && strstr(err.msg, "at iteration 4 and --iters is 4"), "at --iters: %d %s", st, err.msg);
    return tu_finish("test_checkpoint");
}
