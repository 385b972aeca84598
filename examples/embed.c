/* Embedding clstyle in a C program: paints a generated 64x48 gradient in the style of
 * generated stripes, all in memory, prints the progress and the result's size and mean,
 * and writes the result as a binary PPM to argv[1] when given. Synthetic weights
 * ("synthetic:1"), so it needs no weights file. Build against an installed clstyle:
 *   cc embed.c $(pkg-config --cflags --libs clstyle) -o embed && ./embed out.ppm
 * or with CMake: examples/CMakeLists.txt (find_package(clstyle)). */
#include <clstyle.h>

#include <stdio.h>
#include <stdlib.h>

#define WIDTH 64
#define HEIGHT 48

/* Called at each reporting point (every o.print_every iterations, and the last). */
static void on_progress(void *user, const clstyle_progress *p)
{
    (void)user;
    printf("iter %ld/%ld  loss %.6g (content %.4g, style %.4g)  %dx%d  %.2f it/s\n", p->iter, p->iters, p->total,
           p->content, p->style, p->width, p->height, p->it_per_s);
    fflush(stdout);
}

/* img's samples are floats in 0..255: rounded and clamped to bytes. 0 on success. */
static int write_ppm(const char *path, const clstyle_pixels *img)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fprintf(f, "P6\n%d %d\n255\n", img->width, img->height);
    size_t n = (size_t)img->width * (size_t)img->height * 3;
    for (size_t i = 0; i < n; i++) {
        float v = img->data[i] + 0.5f;
        fputc(v < 0 ? 0 : v > 255 ? 255 : (int)v, f);
    }
    int bad = ferror(f);
    return fclose(f) == 0 && !bad ? 0 : -1;
}

int main(int argc, char **argv)
{
    /* (HEIGHT, WIDTH, 3), RGB in pixel units 0..255 */
    static float content_rgb[HEIGHT * WIDTH * 3], style_rgb[HEIGHT * WIDTH * 3];
    for (int y = 0; y < HEIGHT; y++)
        for (int x = 0; x < WIDTH; x++) {
            float *c = &content_rgb[(y * WIDTH + x) * 3], *s = &style_rgb[(y * WIDTH + x) * 3];
            c[0] = 255.0f * x / (WIDTH - 1); /* red left to right, green top to bottom */
            c[1] = 255.0f * y / (HEIGHT - 1);
            c[2] = 128.0f;
            int band = ((x + y) / 6) % 2; /* diagonal stripes, 6 px wide */
            s[0] = band ? 200.0f : 240.0f;
            s[1] = band ? 40.0f : 220.0f;
            s[2] = band ? 30.0f : 60.0f;
        }
    clstyle_pixels content = {WIDTH, HEIGHT, content_rgb}, style = {WIDTH, HEIGHT, style_rgb};

    clstyle_options o;
    clstyle_options_default(&o);
    o.size = 64;              /* longest side of the result */
    o.iters = 6;
    o.weights = "synthetic:1"; /* random VGG19 weights: no file needed (a real run names one) */
    o.print_every = 2;
    o.progress = on_progress;

    clstyle_pixels out = {0};
    clstyle_error err = {0};
    clstyle_status st = clstyle_run_pixels(&o, &content, &style, 1, &out, &err);
    if (st != CLSTYLE_OK) {
        fprintf(stderr, "embed: %s: %s\n", clstyle_status_name(st), err.msg);
        return (int)st;
    }
    double sum = 0;
    size_t n = (size_t)out.width * (size_t)out.height * 3;
    for (size_t i = 0; i < n; i++) sum += out.data[i];
    printf("output %dx%d, mean pixel value %.2f\n", out.width, out.height, sum / (double)n);
    int rc = 0;
    if (argc > 1) {
        if (write_ppm(argv[1], &out) == 0) printf("wrote %s\n", argv[1]);
        else {
            perror(argv[1]);
            rc = 1;
        }
    }
    clstyle_pixels_free(&out);
    return rc;
}
