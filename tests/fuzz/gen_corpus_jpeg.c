/* Regenerates tests/fuzz/corpus_jpeg/: tiny JPEGs (< 4 KiB each) written with libjpeg,
 * one per path the reader must handle: baseline 4:2:0 and 4:4:4 with restart markers,
 * progressive, arithmetic-coded, gray, CMYK and YCCK (Adobe), EXIF orientations in both
 * byte orders, and a truncated file. Deterministic. Build: the gen_corpus_jpeg target
 * (CLSTYLE_FUZZ=ON); usage: gen_corpus_jpeg OUT_DIR */
#include <math.h>
#include <stdio.h> /* before jpeglib.h */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

typedef struct seed {
    const char *name;
    int w, h, comps;
    J_COLOR_SPACE in_space, jpeg_space; /* jpeg_space JCS_UNKNOWN: libjpeg's default */
    int quality, full_chroma, progressive, arith, restart_rows;
    int orientation, big_endian; /* orientation 0: no EXIF */
    int cut;                     /* bytes dropped from the end */
} seed;

static const seed seeds[] = {
    {"baseline_420.jpg", 24, 16, 3, JCS_RGB, JCS_UNKNOWN, 75, 0, 0, 0, 0, 0, 0, 0},
    {"baseline_444_restart.jpg", 20, 12, 3, JCS_RGB, JCS_UNKNOWN, 92, 1, 0, 0, 1, 0, 0, 0},
    {"progressive.jpg", 24, 16, 3, JCS_RGB, JCS_UNKNOWN, 80, 0, 1, 0, 0, 0, 0, 0},
    {"arithmetic.jpg", 16, 16, 3, JCS_RGB, JCS_UNKNOWN, 80, 0, 0, 1, 0, 0, 0, 0},
    {"gray.jpg", 17, 9, 1, JCS_GRAYSCALE, JCS_UNKNOWN, 85, 0, 0, 0, 0, 0, 0, 0},
    {"gray_progressive.jpg", 16, 16, 1, JCS_GRAYSCALE, JCS_UNKNOWN, 85, 0, 1, 0, 0, 0, 0, 0},
    {"cmyk.jpg", 16, 8, 4, JCS_CMYK, JCS_UNKNOWN, 80, 0, 0, 0, 0, 0, 0, 0},
    {"ycck.jpg", 16, 16, 4, JCS_CMYK, JCS_YCCK, 80, 0, 0, 0, 0, 0, 0, 0},
    {"exif6_mm.jpg", 24, 16, 3, JCS_RGB, JCS_UNKNOWN, 75, 0, 0, 0, 0, 6, 1, 0},
    {"exif5_ii.jpg", 16, 8, 3, JCS_RGB, JCS_UNKNOWN, 75, 0, 0, 0, 0, 5, 0, 0},
    {"exif8_progressive.jpg", 16, 16, 3, JCS_RGB, JCS_UNKNOWN, 75, 0, 1, 0, 0, 8, 0, 0},
    {"truncated.jpg", 24, 16, 3, JCS_RGB, JCS_UNKNOWN, 75, 0, 0, 0, 0, 0, 0, 120},
};

static void put16(unsigned char *p, unsigned v, int big)
{
    p[big ? 0 : 1] = (unsigned char)(v >> 8);
    p[big ? 1 : 0] = (unsigned char)v;
}

static void put32(unsigned char *p, unsigned long v, int big)
{
    put16(p + (big ? 0 : 2), (unsigned)(v >> 16) & 0xFFFF, big);
    put16(p + (big ? 2 : 0), (unsigned)v & 0xFFFF, big);
}

/* An EXIF APP1 payload: IFD0 with a Make string (stored after the IFD) and the
 * orientation, so the fuzzer starts from a realistic layout. */
static size_t exif_payload(unsigned char *b, int orientation, int big)
{
    memset(b, 0, 64);
    memcpy(b, "Exif\0\0", 6);
    unsigned char *t = b + 6;
    memcpy(t, big ? "MM" : "II", 2);
    put16(t + 2, 42, big);
    put32(t + 4, 8, big);
    put16(t + 8, 2, big);
    unsigned char *e = t + 10;
    put16(e, 0x010F, big); /* Make, ASCII, 6 bytes at offset 38 */
    put16(e + 2, 2, big);
    put32(e + 4, 6, big);
    put32(e + 8, 38, big);
    put16(e + 12, 0x0112, big); /* Orientation, SHORT, 1 */
    put16(e + 14, 3, big);
    put32(e + 16, 1, big);
    put16(e + 20, (unsigned)orientation, big);
    put32(t + 34, 0, big); /* no next IFD */
    memcpy(t + 38, "clsty", 6);
    return 6 + 44;
}

static unsigned char *encode(const seed *s, unsigned long *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    *len = 0;
    jpeg_mem_dest(&c, &out, len);
    c.image_width = (JDIMENSION)s->w;
    c.image_height = (JDIMENSION)s->h;
    c.input_components = s->comps;
    c.in_color_space = s->in_space;
    jpeg_set_defaults(&c);
    if (s->jpeg_space != JCS_UNKNOWN) jpeg_set_colorspace(&c, s->jpeg_space);
    jpeg_set_quality(&c, s->quality, TRUE);
    if (s->full_chroma)
        for (int i = 0; i < c.num_components; i++)
            c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    if (s->progressive) jpeg_simple_progression(&c);
    c.arith_code = s->arith ? TRUE : FALSE;
    c.optimize_coding = s->arith ? FALSE : TRUE;
    c.restart_in_rows = s->restart_rows;
    jpeg_start_compress(&c, TRUE);
    if (s->orientation) {
        unsigned char app1[64];
        size_t n = exif_payload(app1, s->orientation, s->big_endian);
        jpeg_write_marker(&c, JPEG_APP0 + 1, app1, (unsigned)n);
    }
    size_t stride = (size_t)s->w * (size_t)s->comps;
    unsigned char *row = malloc(stride);
    while (c.next_scanline < c.image_height) {
        int y = (int)c.next_scanline;
        for (int x = 0; x < s->w; x++)
            for (int k = 0; k < s->comps; k++)
                row[(size_t)x * s->comps + k] =
                    (unsigned char)lround(128 + 100 * sin(0.4 * x * (k + 1) + 0.3 * y + k));
        JSAMPROW rows[1] = {row};
        jpeg_write_scanlines(&c, rows, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus_jpeg OUT_DIR\n");
        return 64;
    }
    int failed = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        const seed *s = &seeds[i];
        unsigned long len;
        unsigned char *b = encode(s, &len);
        if (s->cut && (unsigned long)s->cut < len) len -= (unsigned long)s->cut;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], s->name);
        FILE *f = fopen(path, "wb");
        int ok = f && fwrite(b, 1, len, f) == len;
        if (f && fclose(f) != 0) ok = 0;
        if (!ok) {
            fprintf(stderr, "gen_corpus_jpeg: cannot write %s\n", path);
            failed = 1;
        } else if (len >= 4096) {
            fprintf(stderr, "gen_corpus_jpeg: %s is %lu bytes (want < 4096)\n", path, len);
            failed = 1;
        }
        free(b);
    }
    return failed;
}
