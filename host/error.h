/* Error reporting inside the library: fill a clstyle_error and return its status.
 * Also names OpenCL and CLBlast error codes. */
#ifndef CLSTYLE_ERROR_H
#define CLSTYLE_ERROR_H

#include <stddef.h>

#include "clstyle.h"

#if defined(__GNUC__)
#define CLSTYLE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLSTYLE_PRINTF(a, b)
#endif

/* Sets err (if non-NULL) to status and the message and returns status; an earlier
 * message is replaced (callers add context on the way up with clstyle_err_wrap). */
clstyle_status clstyle_err_set(clstyle_error *err, clstyle_status status, const char *fmt, ...)
    CLSTYLE_PRINTF(3, 4);
/* Prepends "prefix: " to an existing message (adds context on the way up). */
clstyle_status clstyle_err_wrap(clstyle_error *err, const char *fmt, ...) CLSTYLE_PRINTF(2, 3);
void clstyle_err_clear(clstyle_error *err);
/* Formats one notice line and hands it to log(user, line); nothing when log is NULL. */
void clstyle_notify(void (*log)(void *user, const char *line), void *user, const char *fmt, ...)
    CLSTYLE_PRINTF(3, 4);

/* src with every control character (< 0x20, 0x7F) written as \xNN, cut to fit cap.
 * clstyle_err_set, clstyle_err_wrap and clstyle_notify escape what they format, so
 * names and paths from files never break a message over lines. */
void clstyle_escape(char *dst, size_t cap, const char *src);

const char *clstyle_cl_error_name(int code);
const char *clstyle_clblast_error_name(int code);

#endif
