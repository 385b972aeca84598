// Image pre-processing on the device: subtract the convention's per-channel mean
// (pixel units); the per-channel scale and channel order live in conv1_1's weights.
__kernel void sub_mean(__global float *y, __global const float *x, const int HW,
                       const float m0, const float m1, const float m2)
{
    const int p = get_global_id(0), c = get_global_id(1);
    if (p >= HW || c >= 3) return;
    const float m = c == 0 ? m0 : (c == 1 ? m1 : m2);
    y[(size_t)c * HW + p] = x[(size_t)c * HW + p] - m;
}
