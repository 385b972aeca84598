/* clstyle public API: status codes, error reports, device listing, options and the
 * style-transfer entry points. Everything else (OpenCL objects, tensors, kernels) is
 * private to the library. */
#ifndef CLSTYLE_H
#define CLSTYLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CLSTYLE_VERSION "0.1.0"

/* Status of every library call. Values map onto the CLI's exit codes (sysexits). */
typedef enum clstyle_status {
    CLSTYLE_OK = 0,
    CLSTYLE_ERR_USAGE = 64,     /* bad argument or option */
    CLSTYLE_ERR_DATA = 65,      /* malformed input data (image, weights, checkpoint) */
    CLSTYLE_ERR_NOINPUT = 66,   /* input file missing or unreadable */
    CLSTYLE_ERR_NODEVICE = 69,  /* no OpenCL platform, or no device matches */
    CLSTYLE_ERR_INTERNAL = 70,  /* OpenCL / CLBlast / internal failure */
    CLSTYLE_ERR_CANTCREAT = 73, /* cannot create an output file */
    CLSTYLE_ERR_IO = 74,        /* read/write error */
    CLSTYLE_ERR_INTERRUPTED = 130
} clstyle_status;

/* A status plus a one-line message naming the operation, file, flag or tensor. */
typedef struct clstyle_error {
    clstyle_status status;
    char msg[1024];
} clstyle_error;

const char *clstyle_status_name(clstyle_status s);

#ifdef __cplusplus
}
#endif
#endif
