/* `clstyle weights FILE`: validates a weights file and prints its tensors, the VGG19
 * layers found and the input convention. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "safetensors.h"
#include "weights.h"

static void print_shape(const clstyle_st_tensor *t)
{
    printf("(");
    for (int i = 0; i < t->ndim; i++) printf("%s%lld", i ? ", " : "", (long long)t->shape[i]);
    printf(")");
}

int clstyle_cli_weights(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        printf("usage: clstyle weights FILE\nValidates a VGG19 safetensors file and lists what it holds.\n");
        return argc == 2 ? 0 : CLSTYLE_ERR_USAGE;
    }
    const char *path = argv[1];
    clstyle_error err = {0};
    clstyle_st_file f;
    if (clstyle_st_open(path, &f, &err)) return clstyle_cli_fail(&err);
    printf("%s: %d tensors, %llu bytes of data\n", path, f.count, (unsigned long long)f.data_size);
    for (int i = 0; i < f.count; i++) {
        const clstyle_st_tensor *t = &f.tensors[i];
        printf("  %-28s %-5s ", t->name, clstyle_dtype_name(t->dtype));
        print_shape(t);
        printf("\n");
    }
    /* VGG19 conv layers present, in order; then load them with every check. */
    int found = 0;
    for (; found < CLSTYLE_VGG_NCONV; found++) {
        char name[64];
        snprintf(name, sizeof name, "features.%d.weight", clstyle_vgg_layers[found].features_index);
        if (!clstyle_st_find(&f, name)) break;
    }
    clstyle_st_close(&f);
    clstyle_weights w;
    if (clstyle_weights_load(&w, path, found ? found : 1, &err)) return clstyle_cli_fail(&err);
    printf("VGG19 conv layers: conv1_1 .. %s (%d of 16)%s\n", clstyle_vgg_layers[found - 1].name, found,
           found < 13 ? "; the default style layers need up to conv5_1" : "");
    printf("input convention: %s\n", clstyle_convention_name(w.convention));
    if (w.has_mean) printf("mean pixel (RGB): %g, %g, %g\n", w.mean[0], w.mean[1], w.mean[2]);
    clstyle_weights_free(&w);
    printf("ok\n");
    return 0;
}
