/* Error reporting: status names, message formatting, OpenCL and CLBlast code names. */
#include "error.h"
#include "mpi.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *clstyle_status_name(clstyle_status s)
{
    switch (s) {
    case CLSTYLE_OK: return "ok";
    case CLSTYLE_ERR_USAGE: return "usage error";
    case CLSTYLE_ERR_DATA: return "bad data";
    case CLSTYLE_ERR_NOINPUT: return "missing input";
    case CLSTYLE_ERR_NODEVICE: return "no usable device";
    case CLSTYLE_ERR_INTERNAL: return "internal/OpenCL failure";
    case CLSTYLE_ERR_CANTCREAT: return "cannot create output";
    case CLSTYLE_ERR_IO: return "I/O error";
    case CLSTYLE_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

void clstyle_escape(char *dst, size_t cap, const char *src)
{
    size_t w = 0;
    if (!cap) return;
    for (; *src; src++) {
        unsigned char c = (unsigned char)*src;
        size_t need = (c < 0x20 || c == 0x7F) ? 4 : 1;
        if (w + need >= cap) break;
        if (need == 4) w += (size_t)snprintf(dst + w, 5, "\\x%02x", c);
        else dst[w++] = (char)c;
    }
    dst[w] = '\0';
}

/* vsnprintf, then every control character escaped (one line whatever the arguments). */
static void format_line(char *out, size_t cap, const char *fmt, va_list ap)
{
    char raw[2048];
    vsnprintf(raw, sizeof raw, fmt, ap);
    clstyle_escape(out, cap, raw);
}

void clstyle_notify(void (*log)(void *user, const char *line), void *user, const char *fmt, ...)
{
    if (!log || clstyle_mpi_rank() > 0) return; /* under mpirun, rank 0 says the notices (host/mpi.h) */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    format_line(line, sizeof line, fmt, ap);
    va_end(ap);
    log(user, line);
}

void clstyle_err_clear(clstyle_error *err)
{
    if (!err) return;
    err->status = CLSTYLE_OK;
    err->msg[0] = '\0';
}

clstyle_status clstyle_err_set(clstyle_error *err, clstyle_status status, const char *fmt, ...)
{
    if (!err) return status;
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    format_line(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return status;
}

clstyle_status clstyle_err_wrap(clstyle_error *err, const char *fmt, ...)
{
    if (!err) return CLSTYLE_ERR_INTERNAL;
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    format_line(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3) n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t rest = sizeof err->msg - n - 3;
    strncpy(err->msg + n + 2, old, rest);
    err->msg[sizeof err->msg - 1] = '\0';
    return err->status;
}

const char *clstyle_cl_error_name(int code)
{
    switch (code) {
#define E(x, v) case v: return #x;
    E(CL_SUCCESS, 0) E(CL_DEVICE_NOT_FOUND, -1) E(CL_DEVICE_NOT_AVAILABLE, -2)
    E(CL_COMPILER_NOT_AVAILABLE, -3) E(CL_MEM_OBJECT_ALLOCATION_FAILURE, -4)
    E(CL_OUT_OF_RESOURCES, -5) E(CL_OUT_OF_HOST_MEMORY, -6)
    E(CL_PROFILING_INFO_NOT_AVAILABLE, -7) E(CL_MEM_COPY_OVERLAP, -8)
    E(CL_IMAGE_FORMAT_MISMATCH, -9) E(CL_IMAGE_FORMAT_NOT_SUPPORTED, -10)
    E(CL_BUILD_PROGRAM_FAILURE, -11) E(CL_MAP_FAILURE, -12)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET, -13) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, -14)
    E(CL_COMPILE_PROGRAM_FAILURE, -15) E(CL_LINKER_NOT_AVAILABLE, -16)
    E(CL_LINK_PROGRAM_FAILURE, -17) E(CL_DEVICE_PARTITION_FAILED, -18)
    E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE, -19) E(CL_INVALID_VALUE, -30)
    E(CL_INVALID_DEVICE_TYPE, -31) E(CL_INVALID_PLATFORM, -32) E(CL_INVALID_DEVICE, -33)
    E(CL_INVALID_CONTEXT, -34) E(CL_INVALID_QUEUE_PROPERTIES, -35)
    E(CL_INVALID_COMMAND_QUEUE, -36) E(CL_INVALID_HOST_PTR, -37)
    E(CL_INVALID_MEM_OBJECT, -38) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR, -39)
    E(CL_INVALID_IMAGE_SIZE, -40) E(CL_INVALID_SAMPLER, -41) E(CL_INVALID_BINARY, -42)
    E(CL_INVALID_BUILD_OPTIONS, -43) E(CL_INVALID_PROGRAM, -44)
    E(CL_INVALID_PROGRAM_EXECUTABLE, -45) E(CL_INVALID_KERNEL_NAME, -46)
    E(CL_INVALID_KERNEL_DEFINITION, -47) E(CL_INVALID_KERNEL, -48)
    E(CL_INVALID_ARG_INDEX, -49) E(CL_INVALID_ARG_VALUE, -50) E(CL_INVALID_ARG_SIZE, -51)
    E(CL_INVALID_KERNEL_ARGS, -52) E(CL_INVALID_WORK_DIMENSION, -53)
    E(CL_INVALID_WORK_GROUP_SIZE, -54) E(CL_INVALID_WORK_ITEM_SIZE, -55)
    E(CL_INVALID_GLOBAL_OFFSET, -56) E(CL_INVALID_EVENT_WAIT_LIST, -57)
    E(CL_INVALID_EVENT, -58) E(CL_INVALID_OPERATION, -59) E(CL_INVALID_GL_OBJECT, -60)
    E(CL_INVALID_BUFFER_SIZE, -61) E(CL_INVALID_MIP_LEVEL, -62)
    E(CL_INVALID_GLOBAL_WORK_SIZE, -63) E(CL_INVALID_PROPERTY, -64)
    E(CL_INVALID_IMAGE_DESCRIPTOR, -65) E(CL_INVALID_COMPILER_OPTIONS, -66)
    E(CL_INVALID_LINKER_OPTIONS, -67) E(CL_INVALID_DEVICE_PARTITION_COUNT, -68)
    E(CL_PLATFORM_NOT_FOUND_KHR, -1001)
#undef E
    }
    return "CL_UNKNOWN_ERROR";
}

const char *clstyle_clblast_error_name(int code)
{
    if (code > -1000 && code <= 0) return clstyle_cl_error_name(code);
    switch (code) {
#define E(x, v) case v: return #x;
    E(CLBlastNotImplemented, -1024) E(CLBlastInvalidMatrixA, -1022) E(CLBlastInvalidMatrixB, -1021)
    E(CLBlastInvalidMatrixC, -1020) E(CLBlastInvalidVectorX, -1019) E(CLBlastInvalidVectorY, -1018)
    E(CLBlastInvalidDimension, -1017) E(CLBlastInvalidLeadDimA, -1016)
    E(CLBlastInvalidLeadDimB, -1015) E(CLBlastInvalidLeadDimC, -1014)
    E(CLBlastInvalidIncrementX, -1013) E(CLBlastInvalidIncrementY, -1012)
    E(CLBlastInsufficientMemoryA, -1011) E(CLBlastInsufficientMemoryB, -1010)
    E(CLBlastInsufficientMemoryC, -1009) E(CLBlastInsufficientMemoryX, -1008)
    E(CLBlastInsufficientMemoryY, -1007) E(CLBlastInsufficientMemoryTemp, -2050)
    E(CLBlastInvalidBatchCount, -2049) E(CLBlastInvalidOverrideKernel, -2048)
    E(CLBlastMissingOverrideParameter, -2047) E(CLBlastInvalidLocalMemUsage, -2046)
    E(CLBlastNoHalfPrecision, -2045) E(CLBlastNoDoublePrecision, -2044)
    E(CLBlastInvalidVectorScalar, -2043) E(CLBlastInsufficientMemoryScalar, -2042)
    E(CLBlastDatabaseError, -2041) E(CLBlastUnknownError, -2040) E(CLBlastUnexpectedError, -2039)
#undef E
    }
    return "CLBlastUnknownStatus";
}
