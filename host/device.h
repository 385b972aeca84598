/* OpenCL device discovery, description and selection. The only owner of platform and
 * device enumeration; ctx.c owns the context and queue made from the chosen device. */
#ifndef CLSTYLE_DEVICE_H
#define CLSTYLE_DEVICE_H

#include <CL/cl.h>
#include <stdio.h>
#include "error.h"

typedef struct clstyle_device_desc {
    int index;                 /* global index over all platforms */
    int platform_index, device_index;
    cl_platform_id platform;
    cl_device_id device;
    char platform_name[256];
    char name[256];
    char vendor[256];
    char driver[128];
    char clc_version[128];
    cl_device_type type;
    cl_uint compute_units;
    cl_uint clock_mhz;
    cl_ulong global_mem, max_alloc, local_mem;
    size_t max_wg;
    int fp16, fp64;
} clstyle_device_desc;

/* Enumerates every device of every platform. No platform: CLSTYLE_ERR_NODEVICE. */
clstyle_status clstyle_device_list(clstyle_device_desc **out, int *n, clstyle_error *err);
/* Picks a device by SPEC: global index "1", "platform:device" "0:1", a type "gpu"/"cpu"/
 * "accel", or a case-insensitive substring of the name. NULL or "" means env_spec
 * (the configuration's CLSTYLE_DEVICE), and when that is NULL or "" too, the first GPU,
 * else the first CPU, else device 0. No match: CLSTYLE_ERR_NODEVICE naming the SPEC and
 * where it came from. */
clstyle_status clstyle_device_select(const clstyle_device_desc *list, int n, const char *spec,
                                     const char *env_spec, int *index, clstyle_error *err);
/* Several devices, for one job across them (host/bands.c): SPEC is "all" or SPECs
 * separated by commas (each as clstyle_device_select takes one). "all" is every device,
 * a device that another platform already exposes (clstyle_device_same_hardware) once.
 * A device named twice: CLSTYLE_ERR_USAGE; a SPEC that matches none: NODEVICE; both
 * messages list the devices. idx gets at most CLSTYLE_MAX_DEVICES indices. */
#define CLSTYLE_MAX_DEVICES 8
clstyle_status clstyle_device_select_many(const clstyle_device_desc *list, int n, const char *spec, int *idx,
                                          int *count, clstyle_error *err);
/* Whether SPEC names several devices: "all" or a comma list. */
int clstyle_device_spec_is_many(const char *spec);
/* Whether b is the same hardware as a seen through another platform (name, vendor,
 * compute units, memory alike; another ICD for the same CPU). Two devices of one
 * platform are never the same: a platform lists each of its devices once. */
int clstyle_device_same_hardware(const clstyle_device_desc *a, const clstyle_device_desc *b);
const char *clstyle_device_type_name(cl_device_type t);
/* Prints the list as a table (json=0) or JSON (json=1). */
void clstyle_device_print(FILE *f, const clstyle_device_desc *list, int n, int json);

#endif
