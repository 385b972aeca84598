/* The command line's one set of argument parsers: integers and floats parsed whole
 * with overflow checks, comma lists without empty items, image sizes in one range.
 * Each prints its own one-line error and returns CLSTYLE_ERR_USAGE (0 when fine). */
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int bad_number(const char *flag, const char *arg)
{
    clstyle_cli_say("%s '%s': not a valid number", flag, arg);
    return CLSTYLE_ERR_USAGE;
}

int clstyle_cli_parse_double(const char *flag, const char *arg, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (!*arg || *end || errno || !isfinite(v)) return bad_number(flag, arg);
    *out = v;
    return 0;
}

int clstyle_cli_parse_long(const char *flag, const char *arg, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || errno) return bad_number(flag, arg);
    if (v < lo || v > hi) {
        clstyle_cli_say("%s %ld: must be between %ld and %ld", flag, v, lo, hi);
        return CLSTYLE_ERR_USAGE;
    }
    *out = v;
    return 0;
}

int clstyle_cli_parse_bytes(const char *flag, const char *arg, unsigned long long *out)
{
    unsigned long long v = 0;
    const char *p = arg;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (ULLONG_MAX - (unsigned)(*p - '0')) / 10) goto bad;
        v = v * 10 + (unsigned)(*p - '0');
    }
    int shift = 0;
    if (*p == 'K' || *p == 'k') shift = 10;
    else if (*p == 'M' || *p == 'm') shift = 20;
    else if (*p == 'G' || *p == 'g') shift = 30;
    else if (*p == 'T' || *p == 't') shift = 40;
    if (shift) p++;
    if (p == arg || *p || v == 0 || v > (ULLONG_MAX >> shift)) goto bad;
    *out = v << shift;
    return 0;
bad:
    clstyle_cli_say("%s '%s': expected a size above zero such as 512M or 2G", flag, arg);
    return CLSTYLE_ERR_USAGE;
}

int clstyle_cli_split(char *s, char **items, int max, const char *flag)
{
    int n = 0;
    for (char *p = s;; p++) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (!*p) {
            clstyle_cli_say("%s: empty item in the list", flag);
            return -1;
        }
        if (n == max) {
            clstyle_cli_say("%s: at most %d items", flag, max);
            return -1;
        }
        items[n++] = p;
        if (!comma) break;
        p = comma;
    }
    return n;
}

int clstyle_cli_parse_sizes(const char *cmd, char *arg, int *sizes, int *n)
{
    char *items[CLSTYLE_CLI_MAX_SIZES], flag[64];
    snprintf(flag, sizeof flag, "%s --size", cmd);
    int k = clstyle_cli_split(arg, items, CLSTYLE_CLI_MAX_SIZES, flag);
    if (k < 0) return CLSTYLE_ERR_USAGE;
    *n = 0;
    for (int i = 0; i < k; i++) {
        long v;
        int rc = clstyle_cli_parse_long(flag, items[i], CLSTYLE_MIN_SIDE, CLSTYLE_MAX_SIDE, &v);
        if (rc) return rc;
        sizes[(*n)++] = (int)v;
    }
    return 0;
}

static char *captured;
static size_t captured_len;

void clstyle_cli_capture(char *buf, size_t len)
{
    captured = buf;
    captured_len = len;
    if (buf && len) buf[0] = '\0';
}

void clstyle_cli_say(const char *fmt, ...)
{
    char raw[2048], line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    clstyle_escape(line, sizeof line, raw);
    if (captured) snprintf(captured, captured_len, "%s", line);
    else fprintf(stderr, "clstyle: %s\n", line);
}
