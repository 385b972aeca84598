/* Draws the demo images assets/content.png (a landscape "photo") and assets/style.png
 * (a swirling "painting") procedurally and deterministically, so the repository ships no
 * third-party pictures. Usage: draw_assets [OUTDIR]   (default: assets) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png_io.h"

#define CONTENT_W 384
#define CONTENT_H 256
#define STYLE_N 256
#define SUPERSAMPLE 4 /* per axis, for anti-aliased edges */

typedef struct rgb {
    double r, g, b;
} rgb;

static rgb mix(rgb a, rgb b, double t)
{
    rgb o = {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
    return o;
}

static rgb scale(rgb a, double s)
{
    rgb o = {a.r * s, a.g * s, a.b * s};
    return o;
}

static double clamp01(double t)
{
    return t < 0 ? 0 : t > 1 ? 1 : t;
}

static double smooth(double e0, double e1, double x)
{
    double t = clamp01((x - e0) / (e1 - e0));
    return t * t * (3 - 2 * t);
}

/* Deterministic lattice noise in [0, 1): integer hash, bilinear between cells. */
static double hash01(int x, int y, uint32_t seed)
{
    uint32_t h = (uint32_t)x * 374761393u + (uint32_t)y * 668265263u + seed * 2246822519u;
    h = (h ^ (h >> 13)) * 1274126177u;
    h ^= h >> 16;
    return (h & 0xFFFFFF) / 16777216.0;
}

static double value_noise(double x, double y, uint32_t seed)
{
    int x0 = (int)floor(x), y0 = (int)floor(y);
    double fx = smooth(0, 1, x - x0), fy = smooth(0, 1, y - y0);
    double a = hash01(x0, y0, seed), b = hash01(x0 + 1, y0, seed);
    double c = hash01(x0, y0 + 1, seed), d = hash01(x0 + 1, y0 + 1, seed);
    return (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
}

static double fbm(double x, double y, uint32_t seed)
{
    double sum = 0, amp = 0.5;
    for (int o = 0; o < 4; o++, amp *= 0.5, x *= 2, y *= 2) sum += amp * value_noise(x, y, seed + o);
    return sum / 0.9375;
}

/* ------------------------------------------------------------ the landscape */

static const rgb SKY_TOP = {38, 86, 168}, SKY_LOW = {250, 212, 160};

static double ridge_far(double x)
{
    return 132 + 18 * sin(x * 0.021 + 1.0) + 9 * sin(x * 0.057 + 2.0) + 4 * sin(x * 0.13);
}

static double ridge_mid(double x)
{
    return 168 + 10 * sin(x * 0.015 + 4.0) + 6 * sin(x * 0.041 + 0.5);
}

static rgb sky(double x, double y)
{
    rgb c = mix(SKY_TOP, SKY_LOW, pow(clamp01(y / 150.0), 1.4));
    double dx = x - 300, dy = y - 68, d = sqrt(dx * dx + dy * dy);
    c = mix(c, (rgb){255, 236, 190}, 0.55 * exp(-d * d / (2 * 45.0 * 45.0)));
    if (d < 20) c = mix(c, (rgb){255, 248, 225}, smooth(20, 18.5, d));
    /* clouds: soft blobs thinned by noise */
    double cloud = 0;
    static const double blobs[][4] = {{70, 50, 40, 11}, {105, 44, 30, 13}, {135, 54, 34, 9},
                                      {210, 92, 46, 8},  {245, 88, 30, 9},  {40, 104, 36, 7}};
    for (size_t k = 0; k < sizeof blobs / sizeof blobs[0]; k++) {
        double u = (x - blobs[k][0]) / blobs[k][2], v = (y - blobs[k][1]) / blobs[k][3];
        cloud += exp(-(u * u + v * v));
    }
    cloud = smooth(0.35, 0.9, cloud * (0.6 + 0.6 * fbm(x / 18, y / 9, 7)));
    return mix(c, (rgb){252, 248, 244}, 0.85 * cloud);
}

static rgb hills(double x, double y, rgb c)
{
    if (y > ridge_far(x)) {
        double haze = clamp01((y - ridge_far(x)) / 40);
        c = mix((rgb){132, 128, 172}, (rgb){104, 122, 150}, haze);
    }
    if (y > ridge_mid(x)) {
        double depth = clamp01((y - ridge_mid(x)) / 35);
        c = mix((rgb){96, 148, 78}, (rgb){62, 118, 56}, depth);
        c = scale(c, 0.9 + 0.2 * fbm(x / 12, y / 6, 3));
    }
    if (y > 196) { /* the meadow with furrows running to the horizon */
        double t = (y - 196) / 60;
        double furrow = 0.5 + 0.5 * sin((x - 192) / (0.15 + t) * 0.35);
        c = mix((rgb){118, 170, 70}, (rgb){80, 140, 48}, t);
        c = scale(c, 0.88 + 0.12 * furrow + 0.08 * (fbm(x / 6, y / 3, 5) - 0.5));
    }
    return c;
}

/* A dirt path from the door down to the bottom edge. */
static rgb path(double x, double y, rgb c)
{
    if (y < 212) return c;
    double t = y - 212, centre = 122 - t * 0.9 + 8 * sin(t / 12), half = 6 + t * 0.25;
    if (fabs(x - centre) > half) return c;
    return scale((rgb){198, 170, 120}, 0.85 + 0.25 * fbm(x / 3, y / 3, 17));
}

static rgb lake(double x, double y, rgb c)
{
    double u = (x - 300) / 70, v = (y - 222) / 14;
    if (u * u + v * v > 1) return c;
    rgb water = mix((rgb){118, 160, 214}, (rgb){52, 98, 164}, clamp01((y - 208) / 28));
    double ripple = 0.5 + 0.5 * sin(y * 2.1 + 3 * sin(x * 0.08));
    double glint = exp(-(x - 300) * (x - 300) / (2 * 9.0 * 9.0)) * ripple; /* the sun's path */
    water = scale(water, 0.94 + 0.08 * ripple);
    return mix(water, (rgb){255, 236, 190}, 0.7 * glint);
}

static int in_rect(double x, double y, double x0, double y0, double x1, double y1)
{
    return x >= x0 && x < x1 && y >= y0 && y < y1;
}

static rgb house(double x, double y, rgb c)
{
    const double left = 78, right = 168, eave = 160, base = 212;
    if (in_rect(x, y, 142, 112, 154, 150)) c = (rgb){120, 70, 56}; /* chimney */
    double half = (right - left) / 2 + 8, top = 118, mid = (left + right) / 2;
    if (y >= top && y < eave && fabs(x - mid) < half * (y - top) / (eave - top))
        c = mix((rgb){176, 64, 44}, (rgb){128, 44, 34}, (x - left) / (right - left));
    if (!in_rect(x, y, left, eave, right, base)) return c;
    c = (fmod(y - eave, 6) < 0.8) ? (rgb){206, 184, 150} : (rgb){232, 214, 182};
    if (in_rect(x, y, 112, 180, 132, base)) c = (rgb){104, 62, 34};              /* door */
    if (in_rect(x, y, 127, 194, 130, 197)) c = (rgb){230, 190, 80};              /* knob */
    int win = in_rect(x, y, 88, 172, 106, 190) || in_rect(x, y, 142, 172, 160, 190);
    if (win) {
        int frame = fabs(fmod(x - 88, 54) - 9) < 0.9 || fabs(y - 181) < 0.9;
        c = frame ? (rgb){245, 245, 240} : mix((rgb){150, 196, 230}, (rgb){250, 230, 170},
                                                 (y - 172) / 18);
    }
    return c;
}

static rgb tree(double x, double y, rgb c)
{
    if (in_rect(x, y, 214, 170, 222, 214)) c = (rgb){92, 62, 36};
    static const double blobs[][3] = {{218, 150, 22}, {204, 164, 15}, {232, 162, 16}, {218, 134, 15}};
    for (size_t k = 0; k < 4; k++) {
        double dx = x - blobs[k][0], dy = y - blobs[k][1], r = blobs[k][2];
        if (dx * dx + dy * dy < r * r) {
            double light = clamp01(0.5 - (dx + dy) / (2.5 * r));
            c = mix((rgb){34, 84, 40}, (rgb){92, 150, 64}, light);
            c = scale(c, 0.85 + 0.3 * fbm(x / 4, y / 4, 11));
        }
    }
    return c;
}

static rgb landscape(double x, double y)
{
    rgb c = sky(x, y);
    c = hills(x, y, c);
    c = path(x, y, c);
    c = lake(x, y, c);
    c = house(x, y, c);
    return tree(x, y, c);
}

/* ------------------------------------------------------------ the painting */

typedef struct vortex {
    double x, y, radius, strength;
} vortex;

static const vortex VORTICES[] = {
    {70, 80, 60, 1.0}, {180, 60, 45, -0.9}, {200, 180, 70, 1.1}, {60, 210, 40, -0.8},
    {130, 135, 30, 0.7},
};
#define N_VORTICES (sizeof VORTICES / sizeof VORTICES[0])

/* Stream function: bands of constant value follow the flow around the vortices. */
static double stream(double x, double y)
{
    double psi = 0.35 * (x + 0.5 * y);
    for (size_t k = 0; k < N_VORTICES; k++) {
        const vortex *v = &VORTICES[k];
        double dx = x - v->x, dy = y - v->y;
        psi += v->strength * v->radius * 1.6 * exp(-(dx * dx + dy * dy) / (v->radius * v->radius));
    }
    return psi;
}

/* Unit flow direction: the gradient of the stream function turned by 90 degrees. */
static void flow(double x, double y, double *fx, double *fy)
{
    const double e = 0.5;
    double gx = stream(x + e, y) - stream(x - e, y), gy = stream(x, y + e) - stream(x, y - e);
    double n = sqrt(gx * gx + gy * gy) + 1e-9;
    *fx = -gy / n;
    *fy = gx / n;
}

/* Line integral convolution of coarse noise along the flow: brush-stroke streaks. */
static double strokes(double x, double y)
{
    double sum = value_noise(x / 1.7, y / 1.7, 21), px, py, fx, fy;
    int n = 1;
    for (int dir = -1; dir <= 1; dir += 2) {
        px = x;
        py = y;
        for (int s = 0; s < 14; s++, n++) {
            flow(px, py, &fx, &fy);
            px += dir * fx;
            py += dir * fy;
            sum += value_noise(px / 1.7, py / 1.7, 21);
        }
    }
    return sum / n;
}

static rgb palette(double t)
{
    static const rgb stops[] = {{18, 28, 78},   {36, 74, 160},  {82, 140, 206}, {236, 214, 110},
                                {232, 136, 42}, {246, 240, 212}, {36, 74, 160}, {18, 28, 78}};
    const int n = (int)(sizeof stops / sizeof stops[0]) - 1;
    t = (t - floor(t)) * n;
    int i = (int)t;
    double f = smooth(0.25, 0.75, t - i); /* bold bands with short transitions */
    return mix(stops[i], stops[i + 1], f);
}

static rgb painting(double x, double y)
{
    double s = clamp01(0.5 + 3.0 * (strokes(x, y) - 0.5));
    double psi = stream(x, y) + 9 * (fbm(x / 40, y / 40, 31) - 0.5) + 10 * (s - 0.5);
    rgb c = scale(palette(psi / 46.0), 0.78 + 0.4 * s);
    double d = hypot(x - 180, y - 60); /* a bright moon with rings, in a vortex's eye */
    if (d < 13) c = mix(c, (rgb){252, 236, 150}, smooth(13, 11, d) * (0.85 + 0.15 * s));
    else c = mix(c, (rgb){250, 226, 120}, 0.4 * exp(-(d - 13) / 8) * (0.6 + 0.4 * cos(d * 0.9)));
    return c;
}

/* ------------------------------------------------------------ rendering */

typedef rgb (*scene_fn)(double x, double y);

static void render_pixel(clstyle_image *img, scene_fn scene, int samples, int x, int y)
{
    rgb acc = {0, 0, 0};
    for (int j = 0; j < samples; j++)
        for (int i = 0; i < samples; i++) {
            rgb c = scene(x + (i + 0.5) / samples, y + (j + 0.5) / samples);
            acc.r += c.r;
            acc.g += c.g;
            acc.b += c.b;
        }
    size_t plane = (size_t)img->w * img->h, at = (size_t)y * img->w + x;
    double n = (double)samples * samples;
    img->data[at] = (float)(acc.r / n);
    img->data[plane + at] = (float)(acc.g / n);
    img->data[2 * plane + at] = (float)(acc.b / n);
}

static int render(const char *dir, const char *name, int w, int h, scene_fn scene, int samples)
{
    clstyle_image img;
    clstyle_error err = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (clstyle_image_alloc(&img, w, h, &err) != CLSTYLE_OK) {
        fprintf(stderr, "draw_assets: %s\n", err.msg);
        return 1;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) render_pixel(&img, scene, samples, x, y);
    clstyle_status st = clstyle_png_write(path, &img, 8, &err);
    clstyle_image_free(&img);
    if (st != CLSTYLE_OK) {
        fprintf(stderr, "draw_assets: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s (%dx%d)\n", path, w, h);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "assets";
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: draw_assets [OUTDIR]\n");
        return 64;
    }
    int rc = render(dir, "content.png", CONTENT_W, CONTENT_H, landscape, SUPERSAMPLE);
    if (rc == 0) rc = render(dir, "style.png", STYLE_N, STYLE_N, painting, 2);
    return rc ? 73 : 0;
}
