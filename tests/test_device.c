/* Device selection: clstyle_device_select over hand-built device lists (every SPEC
 * form, case, out-of-range and malformed specs, type specs, the default and
 * CLSTYLE_DEVICE), then over the real list, where index 0 and "cpu" find PoCL. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "device.h"
#include "testutil.h"

static clstyle_device_desc mk(int index, int pi, int di, const char *name, cl_device_type type)
{
    clstyle_device_desc d;
    memset(&d, 0, sizeof d);
    d.index = index;
    d.platform_index = pi;
    d.device_index = di;
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.platform_name, sizeof d.platform_name, "fake platform %d", pi);
    d.type = type;
    return d;
}

/* Selected index for spec, or -1 on failure (err filled). */
static int sel(const clstyle_device_desc *list, int n, const char *spec, clstyle_error *err)
{
    int idx = -7;
    clstyle_err_clear(err);
    clstyle_config cfg;
    clstyle_config_from_env(&cfg); /* test_env sets CLSTYLE_DEVICE */
    clstyle_status st = clstyle_device_select(list, n, spec, cfg.device, &idx, err);
    if (st != CLSTYLE_OK) {
        CHECK(st == CLSTYLE_ERR_NODEVICE, "spec '%s': status %d, want CLSTYLE_ERR_NODEVICE", spec ? spec : "(null)",
              (int)st);
        CHECK(err->status == st, "spec '%s': err->status %d != returned %d", spec ? spec : "(null)",
              (int)err->status, (int)st);
        CHECK(idx == -7, "spec '%s': index written (%d) on failure", spec ? spec : "(null)", idx);
        return -1;
    }
    CHECK(idx >= 0 && idx < n, "spec '%s': index %d outside [0, %d)", spec ? spec : "(null)", idx, n);
    return idx;
}

#define EXPECT(list, n, spec, want)                                                              \
    do {                                                                                         \
        clstyle_error e_;                                                                        \
        const char *s_ = (spec);                                                                 \
        int got_ = sel(list, n, s_, &e_);                                                        \
        CHECK(got_ == (want), "spec '%s': selected %d, want %d (%s)", s_ ? s_ : "(null)", got_,  \
              (want), got_ < 0 ? e_.msg : "ok");                                                 \
    } while (0)

/* A spec that matches nothing: NODEVICE, and the message names the spec. */
static void expect_none(const clstyle_device_desc *list, int n, const char *spec)
{
    clstyle_error e;
    int got = sel(list, n, spec, &e);
    CHECK(got < 0, "spec '%s' should match nothing, selected %d", spec, got);
    if (got < 0) CHECK(strstr(e.msg, spec) != NULL, "message does not name spec '%s': %s", spec, e.msg);
}

/* platform 0: a CPU; platform 1: two GPUs */
static clstyle_device_desc mixed[3];

static void test_index(void)
{
    EXPECT(mixed, 3, "0", 0);
    EXPECT(mixed, 3, "1", 1);
    EXPECT(mixed, 3, "2", 2);
    EXPECT(mixed, 3, "00", 0);
    expect_none(mixed, 3, "3");
    expect_none(mixed, 3, "99");
    expect_none(mixed, 3, "4294967297"); /* would wrap to 1 in 32 bits */
    expect_none(mixed, 3, "-1");
}

static void test_platform_device(void)
{
    EXPECT(mixed, 3, "0:0", 0);
    EXPECT(mixed, 3, "1:0", 1);
    EXPECT(mixed, 3, "1:1", 2);
    expect_none(mixed, 3, "0:1"); /* platform 0 has one device */
    expect_none(mixed, 3, "1:2");
    expect_none(mixed, 3, "2:0"); /* no platform 2 */
    expect_none(mixed, 3, "1:");
    expect_none(mixed, 3, ":1");
    expect_none(mixed, 3, "1:x");
    expect_none(mixed, 3, "1:1:1");
    expect_none(mixed, 3, ":");
}

static void test_type(void)
{
    EXPECT(mixed, 3, "gpu", 1); /* the first of two GPUs */
    EXPECT(mixed, 3, "GPU", 1);
    EXPECT(mixed, 3, "cpu", 0);
    EXPECT(mixed, 3, "Cpu", 0);
    expect_none(mixed, 3, "accel");

    clstyle_device_desc cpu_only[1] = {mk(0, 0, 0, "pthread-AMD EPYC 7B13", CL_DEVICE_TYPE_CPU)};
    expect_none(cpu_only, 1, "gpu");
    EXPECT(cpu_only, 1, "cpu", 0);

    clstyle_device_desc with_accel[3] = {
        mk(0, 0, 0, "pthread-AMD EPYC 7B13", CL_DEVICE_TYPE_CPU),
        mk(1, 1, 0, "Intel(R) FPGA Emulation Device", CL_DEVICE_TYPE_ACCELERATOR),
        mk(2, 2, 0, "NVIDIA H100", CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_DEFAULT),
    };
    EXPECT(with_accel, 3, "accel", 1);
    EXPECT(with_accel, 3, "ACCEL", 1);
    EXPECT(with_accel, 3, "gpu", 2); /* type is a bit field: GPU|DEFAULT is a GPU */
    EXPECT(with_accel, 3, "cpu", 0);
}

static void test_name(void)
{
    EXPECT(mixed, 3, "h100", 1);
    EXPECT(mixed, 3, "NVIDIA", 1);
    EXPECT(mixed, 3, "nViDiA h1", 1);
    EXPECT(mixed, 3, "GFX", 2);
    EXPECT(mixed, 3, "gfx1100", 2);
    EXPECT(mixed, 3, "epyc", 0);
    EXPECT(mixed, 3, "7b13", 0);
    EXPECT(mixed, 3, "PTHREAD-amd", 0);
    EXPECT(mixed, 3, "NVIDIA H100", 1); /* the whole name */
    expect_none(mixed, 3, "nosuchdevice");
    expect_none(mixed, 3, "H100 NVIDIA");
    expect_none(mixed, 3, "gfx1100x");

    /* two devices share a substring: the first in list order wins */
    clstyle_device_desc twins[2] = {mk(0, 0, 0, "NVIDIA A100", CL_DEVICE_TYPE_GPU),
                                    mk(1, 0, 1, "NVIDIA H100", CL_DEVICE_TYPE_GPU)};
    EXPECT(twins, 2, "nvidia", 0);
    EXPECT(twins, 2, "h100", 1);
}

static void test_default(void)
{
    EXPECT(mixed, 3, NULL, 1); /* first GPU, though the CPU comes first */
    EXPECT(mixed, 3, "", 1);

    clstyle_device_desc cpu_first[2] = {mk(0, 0, 0, "pthread-AMD EPYC 7B13", CL_DEVICE_TYPE_CPU),
                                        mk(1, 0, 1, "another CPU", CL_DEVICE_TYPE_CPU)};
    EXPECT(cpu_first, 2, NULL, 0);

    clstyle_device_desc accel_then_cpu[2] = {mk(0, 0, 0, "FPGA", CL_DEVICE_TYPE_ACCELERATOR),
                                             mk(1, 1, 0, "pthread-AMD EPYC 7B13", CL_DEVICE_TYPE_CPU)};
    EXPECT(accel_then_cpu, 2, NULL, 1);

    clstyle_device_desc accel_only[1] = {mk(0, 0, 0, "FPGA", CL_DEVICE_TYPE_ACCELERATOR)};
    EXPECT(accel_only, 1, NULL, 0);

    clstyle_error e;
    CHECK(sel(NULL, 0, NULL, &e) < 0, "empty list: a device was selected");
    CHECK(sel(NULL, 0, "0", &e) < 0, "empty list: index 0 was selected");
    CHECK(sel(NULL, 0, "gpu", &e) < 0, "empty list: 'gpu' was selected");
}

static void test_env(void)
{
    setenv("CLSTYLE_DEVICE", "gfx", 1);
    EXPECT(mixed, 3, NULL, 2);
    EXPECT(mixed, 3, "", 2);
    EXPECT(mixed, 3, "cpu", 0); /* an explicit spec overrides the variable */
    EXPECT(mixed, 3, "1:0", 1);
    setenv("CLSTYLE_DEVICE", "0", 1);
    EXPECT(mixed, 3, NULL, 0);
    setenv("CLSTYLE_DEVICE", "", 1); /* empty: as if unset */
    EXPECT(mixed, 3, NULL, 1);

    setenv("CLSTYLE_DEVICE", "nosuchdevice", 1);
    clstyle_error e;
    CHECK(sel(mixed, 3, NULL, &e) < 0, "CLSTYLE_DEVICE=nosuchdevice selected a device");
    CHECK(strstr(e.msg, "nosuchdevice") && strstr(e.msg, "CLSTYLE_DEVICE"),
          "message should name CLSTYLE_DEVICE and its value: %s", e.msg);
    EXPECT(mixed, 3, "h100", 1); /* a bad variable does not matter when -d is given */

    /* the message says where the failing spec came from */
    CHECK(sel(mixed, 3, "nosuchdevice", &e) < 0, "-d nosuchdevice selected a device");
    CHECK(strstr(e.msg, "-d") != NULL, "message should name -d/--device: %s", e.msg);
    unsetenv("CLSTYLE_DEVICE");
    EXPECT(mixed, 3, NULL, 1);
}

/* The machine's own list: PoCL (CPU) is expected wherever the tests run. */
static void test_real(void)
{
    clstyle_device_desc *list = NULL;
    int n = 0;
    clstyle_error e = {0};
    clstyle_status st = clstyle_device_list(&list, &n, &e);
    CHECK(st == CLSTYLE_OK && n > 0, "clstyle_device_list: %s", e.msg);
    if (st) return;
    int pocl = -1;
    for (int i = 0; i < n; i++) {
        const clstyle_device_desc *d = &list[i];
        CHECK(d->index == i, "device %d has index %d", i, d->index);
        CHECK(d->name[0] && d->platform_name[0] && d->driver[0], "device %d: empty name/platform/driver", i);
        CHECK(!strncmp(d->clc_version, "OpenCL C ", 9), "device %d: OpenCL C version '%s'", i, d->clc_version);
        CHECK(d->compute_units > 0 && d->global_mem > 0 && d->max_alloc > 0 && d->max_alloc <= d->global_mem &&
                  d->local_mem > 0 && d->max_wg > 0,
              "device %d (%s): implausible limits", i, d->name);
        if (pocl < 0 && strstr(d->platform_name, "Portable Computing Language")) pocl = i;
    }
    CHECK(pocl >= 0, "no PoCL device in the list (is pocl-opencl-icd installed?)");
    if (pocl >= 0) {
        const clstyle_device_desc *p = &list[pocl];
        char spec[64];
        CHECK(p->type & CL_DEVICE_TYPE_CPU, "PoCL device is a %s", clstyle_device_type_name(p->type));
        snprintf(spec, sizeof spec, "%d", pocl);
        EXPECT(list, n, spec, pocl);
        snprintf(spec, sizeof spec, "%d:%d", p->platform_index, p->device_index);
        EXPECT(list, n, spec, pocl);
        int only_cpu = 1;
        for (int i = 0; i < pocl; i++) only_cpu &= !(list[i].type & CL_DEVICE_TYPE_CPU);
        if (only_cpu) EXPECT(list, n, "cpu", pocl);
        if (pocl == 0) EXPECT(list, n, "0", 0);
        EXPECT(list, n, p->name, pocl);
    }
    free(list);
}

int main(void)
{
    unsetenv("CLSTYLE_DEVICE");
    mixed[0] = mk(0, 0, 0, "pthread-AMD EPYC 7B13", CL_DEVICE_TYPE_CPU);
    mixed[1] = mk(1, 1, 0, "NVIDIA H100", CL_DEVICE_TYPE_GPU);
    mixed[2] = mk(2, 1, 1, "gfx1100", CL_DEVICE_TYPE_GPU);
    test_index();
    test_platform_device();
    test_type();
    test_name();
    test_default();
    test_env();
    test_real();
    return tu_finish("test_device");
}
