/* The tensor: a float32 (C, H, W) view into a device buffer at an offset. Byte tensors
 * (ReLU masks, pooling routes) use the same struct, their offset counted in bytes. */
#ifndef CLSTYLE_TENSOR_H
#define CLSTYLE_TENSOR_H

#include <CL/cl.h>
#include <stddef.h>

typedef struct clstyle_tensor {
    cl_mem buf;
    size_t off;   /* in floats (bytes for a byte tensor) */
    int c, h, w;
} clstyle_tensor;

static inline size_t clstyle_tensor_numel(const clstyle_tensor *t)
{
    return (size_t)t->c * (size_t)t->h * (size_t)t->w;
}

static inline clstyle_tensor clstyle_tensor_view(cl_mem buf, size_t off, int c, int h, int w)
{
    clstyle_tensor t = {buf, off, c, h, w};
    return t;
}

#endif
