/* The loss plot and the contact sheet (plot.h), drawn on Cairo RGB24 image surfaces with
 * the toy text API and streamed to PNG through fileio's atomic output. The only file
 * that includes cairo.h. */
#include "plot.h"

#include <cairo.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

#define PLOT_PI 3.14159265358979323846

/* Ink that is never a series colour (plot.h promises tests can tell them apart). */
#define INK_TEXT 0x333333u
#define INK_AXIS 0x555555u
#define INK_GRID 0xdcdcdcu
#define INK_GRID_MINOR 0xf0f0f0u
#define INK_MARKER 0x8c8c8cu
#define INK_BORDER 0xb4b4b4u
#define INK_LEGEND_EDGE 0xccccccu

/* ------------------------------------------------------------ canvas and output */

typedef struct canvas {
    cairo_surface_t *surf;
    cairo_t *cr;
} canvas;

static clstyle_status cairo_fail(clstyle_error *err, const char *path, cairo_status_t cs)
{
    return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "cannot draw %s: cairo: %s", path, cairo_status_to_string(cs));
}

static void ink(cairo_t *cr, unsigned rgb)
{
    cairo_set_source_rgb(cr, (rgb >> 16 & 255) / 255.0, (rgb >> 8 & 255) / 255.0, (rgb & 255) / 255.0);
}

/* A white w x h surface. Cairo refuses sizes it cannot hold (over 32767 a side, or out
 * of memory) by handing back a surface in an error state, not NULL. */
static clstyle_status canvas_open(canvas *c, int w, int h, const char *path, clstyle_error *err)
{
    c->surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    c->cr = NULL;
    cairo_status_t cs = cairo_surface_status(c->surf);
    if (cs == CAIRO_STATUS_SUCCESS) {
        c->cr = cairo_create(c->surf);
        cs = cairo_status(c->cr);
    }
    if (cs != CAIRO_STATUS_SUCCESS) return cairo_fail(err, path, cs);
    ink(c->cr, 0xffffffu);
    cairo_paint(c->cr);
    return CLSTYLE_OK;
}

static void canvas_close(canvas *c)
{
    if (c->cr) cairo_destroy(c->cr);
    if (c->surf) cairo_surface_destroy(c->surf);
    c->cr = NULL;
    c->surf = NULL;
}

typedef struct png_sink {
    clstyle_atomic_file af;
    clstyle_error *err;
    clstyle_status st; /* the first write error; Cairo only learns "write error" */
} png_sink;

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int len)
{
    png_sink *s = closure;
    if (s->st == CLSTYLE_OK) s->st = clstyle_atomic_write(&s->af, data, len, s->err);
    return s->st == CLSTYLE_OK ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* Encodes the finished canvas into a temp file and renames it over path. Drawing errors
 * stick to the context, so one check here covers every call made on it. */
static clstyle_status canvas_write(canvas *c, const char *path, clstyle_error *err)
{
    cairo_status_t cs = cairo_status(c->cr);
    if (cs == CAIRO_STATUS_SUCCESS) cs = cairo_surface_status(c->surf);
    if (cs != CAIRO_STATUS_SUCCESS) return cairo_fail(err, path, cs);
    cairo_surface_flush(c->surf);
    png_sink s;
    memset(&s, 0, sizeof s);
    s.err = err;
    clstyle_status st = clstyle_atomic_open(&s.af, path, err);
    if (st != CLSTYLE_OK) return st;
    cs = cairo_surface_write_to_png_stream(c->surf, sink_write, &s);
    if (s.st != CLSTYLE_OK) st = s.st;
    else if (cs != CAIRO_STATUS_SUCCESS) st = cairo_fail(err, path, cs);
    else st = clstyle_atomic_commit(&s.af, err);
    if (st != CLSTYLE_OK) clstyle_atomic_abort(&s.af);
    return st;
}

/* ------------------------------------------------------------ text */

/* Length of the valid UTF-8 sequence at s (1-4), or 0. Cairo puts the whole context in
 * an error state on invalid UTF-8, so a file name must never reach it raw. */
static int utf8_len(const unsigned char *s)
{
    int n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (n == 2 && s[0] < 0xC2) || (n == 4 && s[0] > 0xF4)) return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    unsigned cp = n == 1 ? s[0] : (unsigned)(s[0] & (0x7F >> n));
    for (int i = 1; i < n; i++) cp = cp << 6 | (s[i] & 0x3Fu);
    static const unsigned least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* src as valid UTF-8 without control characters ('?' for either), cut at a whole
 * character to fit cap. */
static void text_clean(char *dst, size_t cap, const char *src)
{
    size_t w = 0;
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    while (*s) {
        int n = utf8_len(s);
        int bad = n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7F));
        size_t take = bad ? 1 : (size_t)n;
        if (w + take >= cap) break;
        if (bad) dst[w] = '?';
        else memcpy(dst + w, s, take);
        w += take;
        s += take;
    }
    dst[w] = '\0';
}

static void font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static double text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* Draws s with its baseline at y; align 0 puts its start at x, 0.5 its centre, 1 its end. */
static void text_at(cairo_t *cr, double x, double y, const char *s, double align)
{
    cairo_move_to(cr, x - align * text_width(cr, s), y);
    cairo_show_text(cr, s);
}

/* Shrinks the font from size towards min_size until s fits width, then cuts s at a
 * character boundary and ends it with an ellipsis if even that is too wide (s has room
 * for cap bytes). */
static void text_fit(cairo_t *cr, char *s, size_t cap, double width, double size, double min_size, int bold)
{
    for (; size > min_size; size -= 0.5) {
        font(cr, size, bold);
        if (text_width(cr, s) <= width) return;
    }
    font(cr, min_size, bold);
    size_t cut = strlen(s);
    while (cut > 0 && text_width(cr, s) > width) {
        do cut--;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80); /* back to a lead byte */
        if (cut + 4 <= cap) memcpy(s + cut, "\xE2\x80\xA6", 4);
    }
}

/* ------------------------------------------------------------ the loss plot: data */

/* The plot area in pixels and what it shows: iterations x0..x1, 10^e0..10^e1. */
typedef struct plot_area {
    double left, top, right, bottom;
    double x0, x1;
    int e0, e1;
} plot_area;

static double area_x(const plot_area *a, double iter)
{
    return a->left + (iter - a->x0) / (a->x1 - a->x0) * (a->right - a->left);
}

static double area_y(const plot_area *a, double lg)
{
    return a->bottom - (lg - a->e0) / (double)(a->e1 - a->e0) * (a->bottom - a->top);
}

typedef struct plot_pt {
    double x, y; /* iteration, log10(value) */
    int start;   /* a new run of the line begins here */
} plot_pt;

typedef struct plot_series {
    const char *name;
    const double *v; /* (n) or NULL */
    unsigned rgb;
    double width;
    plot_pt *pts; /* (npts), at most 2 per bucket */
    long npts;
} plot_series;

static int drawable(double v)
{
    return isfinite(v) && v > 0;
}

static void series_push(plot_series *s, long i, double v, int start)
{
    plot_pt *p = &s->pts[s->npts++];
    p->x = (double)(i + 1);
    p->y = log10(v);
    p->start = start;
}

/* Where undrawable values lie in s->v[a..b) around the kept points first <= second:
 * bit 0 before first, bit 1 between them, bit 2 after second. */
static int bucket_gaps(const double *v, long a, long b, long first, long second)
{
    int gaps = 0;
    for (long i = a; i < b; i++)
        if (!drawable(v[i])) gaps |= i < first ? 1 : i < second ? 2 : 4;
    return gaps;
}

/* Thins s->v to nb buckets of consecutive iterations: each keeps its min and max, in
 * iteration order, which is exact when a bucket is one iteration and otherwise keeps
 * every spike a pixel column would show. The line breaks wherever an undrawable value
 * lies between two kept points. Only comparisons in the scan; log10 is taken for the
 * kept points alone, so a million iterations stay cheap. */
static void series_thin(plot_series *s, long n, long nb)
{
    int cut = 1; /* the next kept point starts a run */
    s->npts = 0;
    for (long k = 0; s->v && k < nb; k++) {
        long a = (long)((int64_t)k * n / nb), b = (long)((int64_t)(k + 1) * n / nb);
        long lo = -1, hi = -1;
        int bad = 0;
        for (long i = a; i < b; i++) {
            double v = s->v[i];
            if (!drawable(v)) {
                bad = 1;
                continue;
            }
            if (lo < 0 || v < s->v[lo]) lo = i;
            if (hi < 0 || v > s->v[hi]) hi = i;
        }
        if (lo < 0) {
            cut |= bad;
            continue;
        }
        long first = lo < hi ? lo : hi, second = lo < hi ? hi : lo;
        int gaps = bad ? bucket_gaps(s->v, a, b, first, second) : 0;
        series_push(s, first, s->v[first], cut || (gaps & 1));
        if (second != first) series_push(s, second, s->v[second], (gaps & 2) != 0);
        cut = (gaps & 4) != 0;
    }
}

/* The decades around every kept point, at least one, and one more on a side where a
 * point would sit within a few pixels of the frame (a value of exactly 10^k would
 * otherwise be drawn on the axis line); 0..1 when nothing is drawable. */
static int series_decades(const plot_series *s, int ns, double height, int *e0, int *e1)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < ns; k++)
        for (long i = 0; i < s[k].npts; i++) {
            lo = fmin(lo, s[k].pts[i].y);
            hi = fmax(hi, s[k].pts[i].y);
        }
    if (lo > hi) {
        *e0 = 0;
        *e1 = 1;
        return 0;
    }
    *e0 = (int)floor(lo);
    *e1 = (int)ceil(hi);
    if (*e1 <= *e0) *e1 = *e0 + 1;
    double clear = 6 * (*e1 - *e0) / height; /* 6 pixels, in decades */
    if (lo - *e0 < clear) --*e0;
    if (*e1 - hi < clear) ++*e1;
    return 1;
}

/* ------------------------------------------------------------ the loss plot: axes */

/* The 1, 2, 5 x 10^k step after s (s itself one of them). */
static long nice_next(long s)
{
    long p = 1;
    while (s / p >= 10) p *= 10;
    return s / p == 1 ? 2 * p : s / p == 2 ? 5 * p : 10 * p;
}

static void x_label(char *buf, size_t cap, long v)
{
    snprintf(buf, cap, "%ld", v);
}

/* The x tick step: whole iterations, a 1-2-5 value, wide enough that the widest label
 * keeps clear of its neighbours. */
static long x_step(cairo_t *cr, const plot_area *a)
{
    char buf[32];
    x_label(buf, sizeof buf, (long)a->x1);
    double room = text_width(cr, buf) + 28, px_per_iter = (a->right - a->left) / (a->x1 - a->x0);
    long step = 1;
    while (step < (a->x1 - a->x0) / 10 || step * px_per_iter < room) step = nice_next(step);
    return step;
}

static void grid_vline(cairo_t *cr, const plot_area *a, double x)
{
    double px = floor(x) + 0.5; /* a 1-pixel line on a pixel column, not smeared over two */
    cairo_move_to(cr, px, a->top);
    cairo_line_to(cr, px, a->bottom);
}

static void grid_hline(cairo_t *cr, const plot_area *a, double y)
{
    double py = floor(y) + 0.5;
    cairo_move_to(cr, a->left, py);
    cairo_line_to(cr, a->right, py);
}

static void draw_x_axis(cairo_t *cr, const plot_area *a)
{
    font(cr, 12.5, 0);
    long step = x_step(cr, a);
    char buf[32];
    cairo_set_line_width(cr, 1);
    for (long v = (long)ceil(a->x0 / step) * step; v <= a->x1; v += step) {
        double x = area_x(a, (double)v);
        ink(cr, INK_GRID);
        grid_vline(cr, a, x);
        cairo_stroke(cr);
        ink(cr, INK_AXIS);
        cairo_move_to(cr, floor(x) + 0.5, a->bottom);
        cairo_line_to(cr, floor(x) + 0.5, a->bottom + 5);
        cairo_stroke(cr);
        ink(cr, INK_TEXT);
        x_label(buf, sizeof buf, v);
        text_at(cr, x, a->bottom + 20, buf, 0.5);
    }
    font(cr, 13.5, 0);
    text_at(cr, (a->left + a->right) / 2, a->bottom + 46, "iteration", 0.5);
}

/* "10" with the exponent raised and smaller, ending at x, centred on y. */
static void decade_label(cairo_t *cr, double x, double y, int e)
{
    char exp[16];
    snprintf(exp, sizeof exp, "%d", e);
    font(cr, 9.5, 0);
    double we = text_width(cr, exp);
    font(cr, 12.5, 0);
    double wb = text_width(cr, "10");
    text_at(cr, x - we - wb - 1, y + 4.5, "10", 0);
    font(cr, 9.5, 0);
    text_at(cr, x - we, y - 2, exp, 0);
}

static void draw_y_axis(cairo_t *cr, const plot_area *a)
{
    int span = a->e1 - a->e0;
    double px = (a->bottom - a->top) / span; /* pixels per decade */
    long step = 1;
    while (step * px < 24) step = nice_next(step);
    cairo_set_line_width(cr, 1);
    if (px >= 60) { /* room for 2..9 within each decade */
        ink(cr, INK_GRID_MINOR);
        for (int e = a->e0; e < a->e1; e++)
            for (int m = 2; m <= 9; m++) grid_hline(cr, a, area_y(a, e + log10(m)));
        cairo_stroke(cr);
    }
    for (int e = a->e0; e <= a->e1; e++) {
        if (e % step != 0) continue; /* labels at multiples of the step: 10^0 stays one */
        double y = area_y(a, e);
        ink(cr, INK_GRID);
        grid_hline(cr, a, y);
        cairo_stroke(cr);
        ink(cr, INK_AXIS);
        cairo_move_to(cr, a->left - 5, floor(y) + 0.5);
        cairo_line_to(cr, a->left, floor(y) + 0.5);
        cairo_stroke(cr);
        ink(cr, INK_TEXT);
        decade_label(cr, a->left - 9, y, e);
    }
    cairo_save(cr);
    cairo_translate(cr, 24, (a->top + a->bottom) / 2);
    cairo_rotate(cr, -PLOT_PI / 2);
    font(cr, 13.5, 0);
    text_at(cr, 0, 0, "loss (log scale)", 0.5);
    cairo_restore(cr);
}

/* Dashed lines where scales 2, 3, ... begin, labelled above the plot area (clear of
 * curves and legend); a label that would run into the one before it is left out. */
static void draw_scale_marks(cairo_t *cr, const plot_area *a, const long *starts, int ns)
{
    static const double dash[2] = {5, 4};
    double last_end = -1e9;
    font(cr, 11.5, 0);
    for (int i = 0; i < ns; i++) {
        double it = (double)starts[i];
        if (it < a->x0 || it > a->x1) continue;
        double x = floor(area_x(a, it)) + 0.5;
        ink(cr, INK_MARKER);
        cairo_set_line_width(cr, 1.2);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, x, a->top);
        cairo_line_to(cr, x, a->bottom);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        char buf[32];
        snprintf(buf, sizeof buf, "scale %d", i + 2);
        double w = text_width(cr, buf), x0 = fmin(fmax(x - w / 2, a->left), CLSTYLE_PLOT_WIDTH - 6 - w);
        if (x0 < last_end + 8) continue;
        ink(cr, INK_TEXT);
        text_at(cr, x0, a->top - 7, buf, 0);
        last_end = x0 + w;
    }
}

/* ------------------------------------------------------------ the loss plot: curves */

static void draw_series(cairo_t *cr, const plot_area *a, const plot_series *s)
{
    ink(cr, s->rgb);
    cairo_set_line_width(cr, s->width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (long i = 0; i < s->npts; i++) {
        const plot_pt *p = &s->pts[i];
        if (p->start) cairo_move_to(cr, area_x(a, p->x), area_y(a, p->y));
        else cairo_line_to(cr, area_x(a, p->x), area_y(a, p->y));
    }
    cairo_stroke(cr);
    /* A run of one point has no segment to stroke: a dot, so a lone value still shows. */
    for (long i = 0; i < s->npts; i++) {
        if (!s->pts[i].start || (i + 1 < s->npts && !s->pts[i + 1].start)) continue;
        cairo_new_sub_path(cr);
        cairo_arc(cr, area_x(a, s->pts[i].x), area_y(a, s->pts[i].y), s->width + 1.5, 0, 2 * PLOT_PI);
    }
    cairo_fill(cr);
}

typedef struct box {
    double x0, y0, x1, y1;
} box;

/* Whether segment a-b (a point when a == b) touches r (Liang-Barsky clipping). */
static int seg_hits(const box *r, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay, t0 = 0, t1 = 1;
    double p[4] = {-dx, dx, -dy, dy}, q[4] = {ax - r->x0, r->x1 - ax, ay - r->y0, r->y1 - ay};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0) return 0;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0 && t > t0) t0 = t;
        if (p[i] > 0 && t < t1) t1 = t;
        if (t0 > t1) return 0;
    }
    return 1;
}

/* How much of the curves a legend at r would hide: segments (and lone points) it touches. */
static long legend_cover(const plot_area *a, const plot_series *s, int ns, const box *r)
{
    long hits = 0;
    for (int k = 0; k < ns; k++)
        for (long i = 0; i < s[k].npts; i++) {
            const plot_pt *p = &s[k].pts[i], *q = (i > 0 && !p->start) ? p - 1 : p;
            hits += seg_hits(r, area_x(a, q->x), area_y(a, q->y), area_x(a, p->x), area_y(a, p->y));
        }
    return hits;
}

/* The w x h legend's place: whichever corner of the plot area hides least of the curves
 * (top right on a tie, as decaying curves leave it empty). */
static box legend_place(const plot_area *a, const plot_series *s, int ns, double w, double h)
{
    const double inset = 12, clear = 8; /* clear: dots and thick lines reach past their points */
    box best = {0, 0, 0, 0};
    long best_cover = -1;
    for (int corner = 0; corner < 4; corner++) { /* top right, top left, bottom left, bottom right */
        double x = (corner == 0 || corner == 3) ? a->right - inset - w : a->left + inset;
        double y = corner < 2 ? a->top + inset : a->bottom - inset - h;
        box r = {x - clear, y - clear, x + w + clear, y + h + clear};
        long c = legend_cover(a, s, ns, &r);
        if (best_cover < 0 || c < best_cover) {
            best_cover = c;
            best = (box){floor(x), floor(y), floor(x) + floor(w), floor(y) + floor(h)};
        }
    }
    return best;
}

/* One row per drawn series, opaque so nothing runs through its text. */
static void draw_legend(cairo_t *cr, const plot_area *a, const plot_series *s, int ns)
{
    const double pad = 10, row = 20, swatch = 28;
    int rows = 0;
    double tw = 0;
    font(cr, 12.5, 0);
    for (int k = 0; k < ns; k++) {
        if (s[k].npts == 0) continue;
        rows++;
        tw = fmax(tw, text_width(cr, s[k].name));
    }
    if (rows == 0) return;
    box b = legend_place(a, s, ns, 2 * pad + swatch + 8 + tw, 2 * pad + rows * row - 4);
    cairo_rectangle(cr, b.x0 + 0.5, b.y0 + 0.5, b.x1 - b.x0, b.y1 - b.y0);
    ink(cr, 0xffffffu);
    cairo_fill_preserve(cr);
    ink(cr, INK_LEGEND_EDGE);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    double y = b.y0 + pad + 8;
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    for (int k = 0; k < ns; k++) {
        if (s[k].npts == 0) continue;
        ink(cr, s[k].rgb);
        cairo_set_line_width(cr, s[k].width);
        double ly = y + (fmod(s[k].width, 2) >= 1 ? 0.5 : 0); /* rows of full coverage: the exact colour */
        cairo_move_to(cr, b.x0 + pad, ly);
        cairo_line_to(cr, b.x0 + pad + swatch, ly);
        cairo_stroke(cr);
        ink(cr, INK_TEXT);
        text_at(cr, b.x0 + pad + swatch + 8, y + 4.5, s[k].name, 0);
        y += row;
    }
}

static void draw_title(cairo_t *cr, const char *title, double width)
{
    char buf[1024];
    text_clean(buf, sizeof buf, title);
    if (!buf[0]) return;
    ink(cr, INK_TEXT);
    text_fit(cr, buf, sizeof buf, width - 40, 16, 11, 1);
    text_at(cr, width / 2, 28, buf, 0.5);
}

static void draw_frame(cairo_t *cr, const plot_area *a)
{
    ink(cr, INK_AXIS);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, floor(a->left) + 0.5, floor(a->top) + 0.5, floor(a->right) - floor(a->left),
                    floor(a->bottom) - floor(a->top));
    cairo_stroke(cr);
}

static void draw_nothing_note(cairo_t *cr, const plot_area *a)
{
    font(cr, 14, 0);
    ink(cr, INK_MARKER);
    text_at(cr, (a->left + a->right) / 2, (a->top + a->bottom) / 2, "no positive finite loss values to draw yet",
            0.5);
}

static clstyle_status plot_check(const char *path, const clstyle_plot_data *d, clstyle_error *err)
{
    if (!path || !*path) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "plot: no file given");
    if (!d || d->n < 1)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "cannot draw %s: no iterations to plot", path);
    if (d->nscales < 0 || (d->nscales > 0 && !d->scale_starts))
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "cannot draw %s: scale starts missing", path);
    return CLSTYLE_OK;
}

static void plot_draw(cairo_t *cr, const clstyle_plot_data *d, plot_area *a, plot_series *s, int ns)
{
    int any = series_decades(s, ns, a->bottom - a->top, &a->e0, &a->e1);
    draw_y_axis(cr, a);
    draw_x_axis(cr, a);
    draw_scale_marks(cr, a, d->scale_starts, d->nscales);
    cairo_save(cr);
    cairo_rectangle(cr, a->left - 3, a->top - 3, a->right - a->left + 6, a->bottom - a->top + 6);
    cairo_clip(cr);
    for (int k = ns - 1; k >= 0; k--) draw_series(cr, a, &s[k]); /* total last: on top */
    cairo_restore(cr);
    draw_frame(cr, a);
    if (!any) draw_nothing_note(cr, a);
    draw_legend(cr, a, s, ns);
    draw_title(cr, d->title, CLSTYLE_PLOT_WIDTH);
}

clstyle_status clstyle_plot_losses(const char *path, const clstyle_plot_data *d, clstyle_error *err)
{
    clstyle_status st = plot_check(path, d, err);
    if (st != CLSTYLE_OK) return st;
    plot_area a = {.left = 90, .top = 58, .right = CLSTYLE_PLOT_WIDTH - 30, .bottom = CLSTYLE_PLOT_HEIGHT - 64,
                   .x0 = 0, .x1 = d->n == 1 ? 2 : (double)d->n};
    plot_series s[4] = {{"total", d->total, CLSTYLE_PLOT_RGB_TOTAL, 2.5, NULL, 0},
                        {"content", d->content, CLSTYLE_PLOT_RGB_CONTENT, 1.6, NULL, 0},
                        {"style", d->style, CLSTYLE_PLOT_RGB_STYLE, 1.6, NULL, 0},
                        {"tv", d->tv, CLSTYLE_PLOT_RGB_TV, 1.6, NULL, 0}};
    /* One bucket per iteration while there are at most 2 per pixel column, else one per column. */
    long columns = (long)(a.right - a.left), nb = d->n <= 2 * columns ? d->n : columns;
    canvas c = {NULL, NULL};
    plot_pt *pts = malloc((size_t)4 * 2 * (size_t)nb * sizeof *pts);
    if (!pts) {
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "cannot draw %s: out of memory", path);
        goto done;
    }
    for (int k = 0; k < 4; k++) {
        s[k].pts = pts + (size_t)k * 2 * (size_t)nb;
        series_thin(&s[k], d->n, nb);
    }
    st = canvas_open(&c, CLSTYLE_PLOT_WIDTH, CLSTYLE_PLOT_HEIGHT, path, err);
    if (st != CLSTYLE_OK) goto done;
    plot_draw(c.cr, d, &a, s, 4);
    st = canvas_write(&c, path, err);
done:
    canvas_close(&c);
    free(pts);
    return st;
}

/* ------------------------------------------------------------ the contact sheet */

typedef struct sheet_layout {
    int cols, rows;
    int bw, bh; /* the box every frame is centred in */
    int cw, ch; /* a cell: box, border ring, label band */
    int w, h;   /* the sheet */
} sheet_layout;

static clstyle_status sheet_plan(const char *path, const clstyle_image *frames, int n, sheet_layout *L,
                                 clstyle_error *err)
{
    int bw = CLSTYLE_SHEET_MIN_BOX_W, bh = 1;
    for (int i = 0; i < n; i++) {
        if (!frames[i].data || frames[i].w < 1 || frames[i].h < 1)
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "cannot draw %s: frame %d has no pixels (%dx%d)", path,
                                   i + 1, frames[i].w, frames[i].h);
        if (frames[i].w > bw) bw = frames[i].w;
        if (frames[i].h > bh) bh = frames[i].h;
    }
    int cols = 1;
    while (cols < CLSTYLE_SHEET_MAX_COLS && (int64_t)cols * cols < n) cols++;
    int rows = (n + cols - 1) / cols;
    int64_t cw = (int64_t)bw + 2 * CLSTYLE_SHEET_BORDER, ch = (int64_t)bh + 2 * CLSTYLE_SHEET_BORDER + CLSTYLE_SHEET_LABEL;
    int64_t w = 2 * CLSTYLE_SHEET_MARGIN + cols * cw + (cols - 1) * CLSTYLE_SHEET_GAP;
    int64_t h = 2 * CLSTYLE_SHEET_MARGIN + rows * ch + (rows - 1) * CLSTYLE_SHEET_GAP;
    /* Cairo takes int sizes; anything past that is far beyond its 32767 limit anyway. */
    if (w > INT32_MAX || h > INT32_MAX)
        return cairo_fail(err, path, CAIRO_STATUS_INVALID_SIZE);
    *L = (sheet_layout){cols, rows, bw, bh, (int)cw, (int)ch, (int)w, (int)h};
    return CLSTYLE_OK;
}

/* Top-left corner of frame i's pixels (plot.h gives the formula). */
static void sheet_place(const sheet_layout *L, const clstyle_image *f, int i, int *x, int *y)
{
    int col = i % L->cols, row = i / L->cols;
    *x = CLSTYLE_SHEET_MARGIN + col * (L->cw + CLSTYLE_SHEET_GAP) + CLSTYLE_SHEET_BORDER + (L->bw - f->w) / 2;
    *y = CLSTYLE_SHEET_MARGIN + row * (L->ch + CLSTYLE_SHEET_GAP) + CLSTYLE_SHEET_BORDER + (L->bh - f->h) / 2;
}

static uint32_t to_byte(float v)
{
    if (!(v > 0.0f)) return 0; /* NaN too */
    if (v >= 255.0f) return 255;
    return (uint32_t)(v + 0.5f);
}

/* Copies the planar float frame into the RGB24 surface (0x00RRGGBB words) at x, y. */
static void sheet_blit(cairo_surface_t *surf, const clstyle_image *f, int x, int y)
{
    unsigned char *base = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    size_t plane = (size_t)f->w * (size_t)f->h;
    for (int r = 0; r < f->h; r++) {
        uint32_t *row = (uint32_t *)(void *)(base + (size_t)(y + r) * (size_t)stride) + x;
        const float *src = f->data + (size_t)r * (size_t)f->w;
        for (int k = 0; k < f->w; k++)
            row[k] = to_byte(src[k]) << 16 | to_byte(src[plane + k]) << 8 | to_byte(src[2 * plane + k]);
    }
}

static void sheet_label(cairo_t *cr, const sheet_layout *L, int i, long iter)
{
    char buf[48];
    if (iter <= 0) snprintf(buf, sizeof buf, "start");
    else snprintf(buf, sizeof buf, "iteration %ld", iter);
    int col = i % L->cols, row = i / L->cols;
    double cx = CLSTYLE_SHEET_MARGIN + col * (L->cw + CLSTYLE_SHEET_GAP) + L->cw / 2.0;
    double base = CLSTYLE_SHEET_MARGIN + row * (L->ch + CLSTYLE_SHEET_GAP) + L->bh + 2 * CLSTYLE_SHEET_BORDER + 18;
    ink(cr, INK_TEXT);
    text_fit(cr, buf, sizeof buf, L->cw, 13, 9, 0);
    text_at(cr, cx, base, buf, 0.5);
}

clstyle_status clstyle_plot_sheet(const char *path, const clstyle_image *frames, const long *iters, int n,
                                  clstyle_error *err)
{
    if (!path || !*path) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "sheet: no file given");
    if (n < 1 || !frames || !iters)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "cannot draw %s: no frames for the sheet", path);
    sheet_layout L = {0, 0, 0, 0, 0, 0, 0, 0};
    clstyle_status st = sheet_plan(path, frames, n, &L, err);
    if (st != CLSTYLE_OK) return st;
    canvas c = {NULL, NULL};
    st = canvas_open(&c, L.w, L.h, path, err);
    if (st != CLSTYLE_OK) goto done;
    cairo_set_line_width(c.cr, 1);
    for (int i = 0; i < n; i++) {
        int x, y;
        sheet_place(&L, &frames[i], i, &x, &y);
        ink(c.cr, INK_BORDER);
        cairo_rectangle(c.cr, x - 0.5, y - 0.5, frames[i].w + 1, frames[i].h + 1); /* the ring of pixels just outside */
        cairo_stroke(c.cr);
        sheet_label(c.cr, &L, i, iters[i]);
    }
    cairo_surface_flush(c.surf); /* Cairo's drawing is done before its pixels are touched */
    for (int i = 0; i < n; i++) {
        int x, y;
        sheet_place(&L, &frames[i], i, &x, &y);
        sheet_blit(c.surf, &frames[i], x, y);
    }
    cairo_surface_mark_dirty(c.surf);
    st = canvas_write(&c, path, err);
done:
    canvas_close(&c);
    return st;
}
