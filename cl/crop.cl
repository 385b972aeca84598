// A window of a (C, H, W) tensor, the tiled run's crops: forward copies the window out,
// backward adds a window's gradient back into place (other positions get nothing).
// Grid (w, h, c) over the window.

// y (c, h, w) = x[:, y0 : y0+h, x0 : x0+w], x (c, H, W)
__kernel void crop_forward(__global float *y, const ulong y_off, __global const float *x, const ulong x_off,
                           const int H, const int W, const int y0, const int x0, const int h, const int w)
{
    const int j = get_global_id(0), i = get_global_id(1), c = get_global_id(2);
    if (j >= w || i >= h) return;
    y[y_off + ((size_t)c * h + i) * w + j] = x[x_off + ((size_t)c * H + y0 + i) * W + x0 + j];
}

// dx[:, y0 : y0+h, x0 : x0+w] += dy (c, h, w), dx (c, H, W)
__kernel void crop_backward(__global float *dx, const ulong dx_off, __global const float *dy, const ulong dy_off,
                            const int H, const int W, const int y0, const int x0, const int h, const int w)
{
    const int j = get_global_id(0), i = get_global_id(1), c = get_global_id(2);
    if (j >= w || i >= h) return;
    dx[dx_off + ((size_t)c * H + y0 + i) * W + x0 + j] += dy[dy_off + ((size_t)c * h + i) * w + j];
}
