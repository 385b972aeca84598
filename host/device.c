/* OpenCL device discovery, description and SPEC-based selection. */
#include "device.h"

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

const char *clstyle_device_type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU) return "GPU";
    if (t & CL_DEVICE_TYPE_CPU) return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
    return "other";
}

static void info_str(cl_device_id d, cl_device_info what, char *buf, size_t len)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, len, buf, NULL) != CL_SUCCESS) snprintf(buf, len, "?");
    buf[len - 1] = '\0';
}

static int has_ext(cl_device_id d, const char *ext)
{
    size_t len = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &len) != CL_SUCCESS || !len) return 0;
    char *s = malloc(len + 1);
    if (!s) return 0;
    int found = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, len, s, NULL) == CL_SUCCESS) {
        s[len] = '\0';
        found = strstr(s, ext) != NULL;
    }
    free(s);
    return found;
}

static void describe(clstyle_device_desc *dd)
{
    cl_device_id d = dd->device;
    char pname[256] = "";
    clGetPlatformInfo(dd->platform, CL_PLATFORM_NAME, sizeof pname, pname, NULL);
    pname[sizeof pname - 1] = '\0';
    snprintf(dd->platform_name, sizeof dd->platform_name, "%s", pname);
    info_str(d, CL_DEVICE_NAME, dd->name, sizeof dd->name);
    info_str(d, CL_DEVICE_VENDOR, dd->vendor, sizeof dd->vendor);
    info_str(d, CL_DRIVER_VERSION, dd->driver, sizeof dd->driver);
    info_str(d, CL_DEVICE_OPENCL_C_VERSION, dd->clc_version, sizeof dd->clc_version);
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof dd->type, &dd->type, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof dd->compute_units, &dd->compute_units, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof dd->clock_mhz, &dd->clock_mhz, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof dd->global_mem, &dd->global_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof dd->max_alloc, &dd->max_alloc, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof dd->local_mem, &dd->local_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof dd->max_wg, &dd->max_wg, NULL);
    dd->fp16 = has_ext(d, "cl_khr_fp16");
    cl_device_fp_config fp64 = 0;
    clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);
    dd->fp64 = fp64 != 0 || has_ext(d, "cl_khr_fp64");
}

static clstyle_status add_platform(cl_platform_id p, int pi, clstyle_device_desc **list, int *n,
                                   clstyle_error *err)
{
    cl_uint nd = 0;
    cl_int rc = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    if (rc == CL_DEVICE_NOT_FOUND || nd == 0) return CLSTYLE_OK;
    if (rc != CL_SUCCESS)
        return clstyle_err_set(err, CLSTYLE_ERR_NODEVICE, "clGetDeviceIDs on platform %d: %s", pi,
                               clstyle_cl_error_name(rc));
    cl_device_id *ids = calloc(nd, sizeof *ids);
    clstyle_device_desc *grown = realloc(*list, (size_t)(*n + (int)nd) * sizeof **list);
    if (!ids || !grown) {
        free(ids);
        if (grown) *list = grown;
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory listing devices");
    }
    *list = grown;
    rc = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, nd, ids, NULL);
    if (rc != CL_SUCCESS) {
        free(ids);
        return clstyle_err_set(err, CLSTYLE_ERR_NODEVICE, "clGetDeviceIDs on platform %d: %s", pi,
                               clstyle_cl_error_name(rc));
    }
    for (cl_uint i = 0; i < nd; i++) {
        clstyle_device_desc *dd = &(*list)[*n];
        memset(dd, 0, sizeof *dd);
        dd->index = *n;
        dd->platform_index = pi;
        dd->device_index = (int)i;
        dd->platform = p;
        dd->device = ids[i];
        describe(dd);
        (*n)++;
    }
    free(ids);
    return CLSTYLE_OK;
}

clstyle_status clstyle_device_list(clstyle_device_desc **out, int *n, clstyle_error *err)
{
    *out = NULL;
    *n = 0;
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &np);
    if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && np == 0))
        return clstyle_err_set(err, CLSTYLE_ERR_NODEVICE,
                               "no OpenCL platform found (is an ICD installed? e.g. apt-get "
                               "install pocl-opencl-icd; check /etc/OpenCL/vendors)");
    if (rc != CL_SUCCESS)
        return clstyle_err_set(err, CLSTYLE_ERR_NODEVICE, "clGetPlatformIDs: %s",
                               clstyle_cl_error_name(rc));
    cl_platform_id *ps = calloc(np, sizeof *ps);
    if (!ps) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    clstyle_status st = CLSTYLE_OK;
    rc = clGetPlatformIDs(np, ps, NULL);
    if (rc != CL_SUCCESS) {
        st = clstyle_err_set(err, CLSTYLE_ERR_NODEVICE, "clGetPlatformIDs: %s",
                             clstyle_cl_error_name(rc));
        goto done;
    }
    for (cl_uint p = 0; p < np && st == CLSTYLE_OK; p++) st = add_platform(ps[p], (int)p, out, n, err);
    if (st == CLSTYLE_OK && *n == 0)
        st = clstyle_err_set(err, CLSTYLE_ERR_NODEVICE, "OpenCL platforms found, but no devices");
done:
    free(ps);
    if (st != CLSTYLE_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return st;
}

static int ci_contains(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == nl) return 1;
    }
    return nl == 0;
}

static int parse_uint(const char *s, const char *end, int *out)
{
    if (s == end) return 0;
    long v = 0;
    for (const char *p = s; p < end; p++) {
        if (!isdigit((unsigned char)*p)) return 0;
        v = v * 10 + (*p - '0');
        if (v > 1000000) return 0;
    }
    *out = (int)v;
    return 1;
}

static int first_of_type(const clstyle_device_desc *list, int n, cl_device_type t)
{
    for (int i = 0; i < n; i++)
        if (list[i].type & t) return i;
    return -1;
}

static int match_spec(const clstyle_device_desc *list, int n, const char *spec)
{
    const char *end = spec + strlen(spec);
    const char *colon = strchr(spec, ':');
    int a, b;
    if (!colon && parse_uint(spec, end, &a)) return a < n ? a : -1;
    if (colon && parse_uint(spec, colon, &a) && parse_uint(colon + 1, end, &b)) {
        for (int i = 0; i < n; i++)
            if (list[i].platform_index == a && list[i].device_index == b) return i;
        return -1;
    }
    if (!strcasecmp(spec, "gpu")) return first_of_type(list, n, CL_DEVICE_TYPE_GPU);
    if (!strcasecmp(spec, "cpu")) return first_of_type(list, n, CL_DEVICE_TYPE_CPU);
    if (!strcasecmp(spec, "accel") || !strcasecmp(spec, "accelerator"))
        return first_of_type(list, n, CL_DEVICE_TYPE_ACCELERATOR);
    for (int i = 0; i < n; i++)
        if (ci_contains(list[i].name, spec)) return i;
    return -1;
}

clstyle_status clstyle_device_select(const clstyle_device_desc *list, int n, const char *spec,
                                     const char *env_spec, int *index, clstyle_error *err)
{
    const char *source = "-d/--device";
    if (!spec || !*spec) {
        spec = env_spec;
        source = "CLSTYLE_DEVICE";
    }
    if (!spec || !*spec) {
        int i = first_of_type(list, n, CL_DEVICE_TYPE_GPU);
        if (i < 0) i = first_of_type(list, n, CL_DEVICE_TYPE_CPU);
        if (i < 0 && n > 0) i = 0;
        if (i < 0) return clstyle_err_set(err, CLSTYLE_ERR_NODEVICE, "no OpenCL device available");
        *index = i;
        return CLSTYLE_OK;
    }
    int i = match_spec(list, n, spec);
    if (i < 0)
        return clstyle_err_set(err, CLSTYLE_ERR_NODEVICE,
                               "%s '%s' matches no OpenCL device (see 'clstyle devices')", source,
                               spec);
    *index = i;
    return CLSTYLE_OK;
}

int clstyle_device_spec_is_many(const char *spec)
{
    return spec && (!strcasecmp(spec, "all") || strchr(spec, ','));
}

int clstyle_device_same_hardware(const clstyle_device_desc *a, const clstyle_device_desc *b)
{
    return a->platform_index != b->platform_index && !strcmp(a->name, b->name) && !strcmp(a->vendor, b->vendor) &&
           a->compute_units == b->compute_units && a->global_mem == b->global_mem && a->type == b->type;
}

/* "[0] name, [1] name, ..." for messages. */
static void names(const clstyle_device_desc *list, int n, char *buf, size_t len)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && k + 1 < len; i++) {
        int w = snprintf(buf + k, len - k, "%s[%d] %s", i ? ", " : "", i, list[i].name);
        if (w < 0) break;
        k += (size_t)w < len - k ? (size_t)w : len - k - 1;
    }
}

clstyle_status clstyle_device_select_many(const clstyle_device_desc *list, int n, const char *spec, int *idx,
                                          int *count, clstyle_error *err)
{
    char all[1024];
    names(list, n, all, sizeof all);
    *count = 0;
    if (!strcasecmp(spec, "all")) {
        for (int i = 0; i < n && *count < CLSTYLE_MAX_DEVICES; i++) {
            int dup = 0;
            for (int k = 0; k < *count && !dup; k++) dup = clstyle_device_same_hardware(&list[idx[k]], &list[i]);
            if (!dup) idx[(*count)++] = i;
        }
        return CLSTYLE_OK;
    }
    const char *p = spec;
    while (*p) {
        char one[256];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof one)
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "-d/--device '%s': an empty or overlong entry in the list "
                                   "(devices: %s)", spec, all);
        memcpy(one, p, len);
        one[len] = '\0';
        int i = match_spec(list, n, one);
        if (i < 0)
            return clstyle_err_set(err, CLSTYLE_ERR_NODEVICE, "-d/--device '%s': '%s' matches no OpenCL device "
                                   "(devices: %s)", spec, one, all);
        for (int k = 0; k < *count; k++)
            if (idx[k] == i)
                return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "-d/--device '%s': '%s' is device [%d] %s again: "
                                       "name each device once (devices: %s)", spec, one, i, list[i].name, all);
        if (*count == CLSTYLE_MAX_DEVICES)
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "-d/--device '%s': at most %d devices", spec,
                                   CLSTYLE_MAX_DEVICES);
        idx[(*count)++] = i;
        p += len;
        if (*p == ',') {
            p++;
            if (!*p)
                return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "-d/--device '%s': ends with a comma (devices: %s)",
                                       spec, all);
        }
    }
    return CLSTYLE_OK;
}

/* Whether -d all takes device i (what clstyle_device_select_many chooses for "all"). */
static int in_all(const clstyle_device_desc *list, int i)
{
    int idx[CLSTYLE_MAX_DEVICES], count = 0;
    clstyle_error err = {0};
    clstyle_device_select_many(list, i + 1, "all", idx, &count, &err);
    return count > 0 && idx[count - 1] == i;
}

static void print_json(FILE *f, const clstyle_device_desc *list, int n)
{
    fprintf(f, "[\n");
    for (int i = 0; i < n; i++) {
        const clstyle_device_desc *d = &list[i];
        fprintf(f, "  {\"index\": %d, \"platform_index\": %d, \"device_index\": %d, \"platform\": ",
                d->index, d->platform_index, d->device_index);
        clstyle_json_write_string(f, d->platform_name);
        fprintf(f, ", \"name\": ");
        clstyle_json_write_string(f, d->name);
        fprintf(f, ", \"type\": \"%s\", \"vendor\": ", clstyle_device_type_name(d->type));
        clstyle_json_write_string(f, d->vendor);
        fprintf(f, ", \"driver\": ");
        clstyle_json_write_string(f, d->driver);
        fprintf(f, ", \"opencl_c\": ");
        clstyle_json_write_string(f, d->clc_version);
        fprintf(f,
                ", \"compute_units\": %u, \"clock_mhz\": %u, \"global_mem_bytes\": %llu, "
                "\"max_alloc_bytes\": %llu, \"local_mem_bytes\": %llu, \"fp16\": %s, \"fp64\": %s, \"in_all\": %s}%s\n",
                d->compute_units, d->clock_mhz, (unsigned long long)d->global_mem,
                (unsigned long long)d->max_alloc, (unsigned long long)d->local_mem,
                d->fp16 ? "true" : "false", d->fp64 ? "true" : "false", in_all(list, i) ? "true" : "false",
                i + 1 < n ? "," : "");
    }
    fprintf(f, "]\n");
}

void clstyle_device_print(FILE *f, const clstyle_device_desc *list, int n, int json)
{
    if (json) {
        print_json(f, list, n);
        return;
    }
    for (int i = 0; i < n; i++) {
        const clstyle_device_desc *d = &list[i];
        fprintf(f, "[%d] %d:%d  %s  (%s)\n", d->index, d->platform_index, d->device_index, d->name,
                clstyle_device_type_name(d->type));
        fprintf(f, "      platform: %s | vendor: %s | driver: %s | %s\n", d->platform_name, d->vendor,
                d->driver, d->clc_version);
        fprintf(f,
                "      %u compute units @ %u MHz | global %.2f GiB | max alloc %.2f GiB | local %llu "
                "KiB | fp16 %s | fp64 %s\n",
                d->compute_units, d->clock_mhz, (double)d->global_mem / (1 << 30),
                (double)d->max_alloc / (1 << 30), (unsigned long long)(d->local_mem / 1024),
                d->fp16 ? "yes" : "no", d->fp64 ? "yes" : "no");
    }
    int skipped = 0;
    fprintf(f, "-d all uses:");
    for (int i = 0; i < n; i++) {
        if (in_all(list, i)) fprintf(f, " [%d]", i);
        else skipped++;
    }
    if (skipped) {
        fprintf(f, "; not");
        for (int i = 0; i < n; i++)
            if (!in_all(list, i)) fprintf(f, " [%d]", i);
        fprintf(f, " (the same hardware as a device before it, through another platform; or past %d devices)",
                CLSTYLE_MAX_DEVICES);
    }
    fprintf(f, "\n");
}
