/* CLBlast's own Xgemm tuner, reachable only through its C++ API: the one C++ file of the
 * project, a narrow extern "C" bridge used by host/blas.c. Parameters travel as text,
 * "NAME=VALUE NAME=VALUE ..." sorted by name. */
#include <clblast.h>

#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <unordered_map>

#include "blas.h"

static int to_text(const std::unordered_map<std::string, size_t> &p, char *out, size_t len)
{
    std::map<std::string, size_t> sorted(p.begin(), p.end());
    std::string s;
    for (const auto &kv : sorted) s += (s.empty() ? "" : " ") + kv.first + "=" + std::to_string(kv.second);
    if (s.size() + 1 > len) return -1;
    std::snprintf(out, len, "%s", s.c_str());
    return 0;
}

extern "C" int clstyle_clblast_tune_xgemm(cl_command_queue queue, size_t m, size_t n, size_t k, double fraction,
                                          char *params, size_t len)
{
    std::unordered_map<std::string, size_t> p;
    try {
        clblast::StatusCode rc = clblast::TuneXgemm<float>(&queue, m, n, k, fraction, p);
        if (rc != clblast::StatusCode::kSuccess) return static_cast<int>(rc);
    } catch (const std::exception &e) {
        std::snprintf(params, len, "%s", e.what()); /* the caller reports it */
        return static_cast<int>(clblast::StatusCode::kUnknownError);
    } catch (...) {
        return static_cast<int>(clblast::StatusCode::kUnknownError);
    }
    return p.empty() || to_text(p, params, len) ? static_cast<int>(clblast::StatusCode::kUnknownError) : 0;
}
