// A small Qt-free test runner for the GPU checks (tst_backend_parity, tst_engine_cuda,
// tst_fixtures_cuda). Why not Qt Test like the rest of tests/: the lent GPU machines that run
// scripts/gpu-check have the CUDA toolkit, CMake and a compiler, but no Qt, and nothing can be installed
// there. So everything gpu-check builds depends only on llava_core + llava_kernels (+ the deps bundle
// scripts/gpu-deps makes for sentencepiece and nlohmann/json).
//
// Command line:  <exe>                 run every case
//                <exe> NAME...         run the named cases; NAME "case:row" runs only the rows of `case`
//                                      whose tag starts with `row`
//                <exe> --list          print the case names, one per line (gpu-check runs one per process)
// Output: "PASS <case>" / "FAIL <case>: ..." lines, "FAIL <case> [<row>] <what> (file:line)" per failed
// check, then "Totals: N passed, M failed". Exit status: 0 all passed, 1 a failure, 2 usage error,
// 77 when setup skipped (ctest SKIP_RETURN_CODE 77): "SKIP: <reason>" is printed, so a skipped check
// never reads as a pass. Test code only.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include "llava/status.h"

namespace llava::gpucheck {

constexpr int kSkipExitCode = 77;

class Context {
public:
    explicit Context(std::string caseName, std::string rowFilter)
        : m_case(std::move(caseName)), m_rowFilter(std::move(rowFilter)) {}

    // Records a failure naming the case, the current row and the source line; returns `ok` so a case
    // can stop early with `if (!ctx.check(...)) return;`.
    bool check(bool ok, std::string_view what, std::source_location where = std::source_location::current()) {
        if (!ok) {
            ++m_failures;
            std::printf("FAIL %s%s %.*s (%s:%u)\n", m_case.c_str(), rowSuffix().c_str(), int(what.size()), what.data(),
                        fileName(where.file_name()), unsigned(where.line()));
            std::fflush(stdout);
        }
        return ok;
    }
    // check() on a Status: the failure text is the Status (op, shapes, device error).
    bool ok(const Status& status, std::source_location where = std::source_location::current()) {
        if (status.isOk()) return true;
        return check(false, status.toString(), where);
    }
    bool ok(const Status& status, std::string_view what, std::source_location where = std::source_location::current()) {
        if (status.isOk()) return true;
        return check(false, std::string(what) + ": " + status.toString(), where);
    }

    // Rows: data-driven variants of one case (shapes, formats). A filter "case:prefix" keeps only rows
    // whose tag starts with prefix; beginRow returns false for rows to skip.
    bool beginRow(std::string_view tag) {
        if (!m_rowFilter.empty() && tag.substr(0, m_rowFilter.size()) != m_rowFilter) return false;
        m_row = tag;
        ++m_rowsRun;
        return true;
    }
    const std::string& row() const { return m_row; }

    static void info(const char* format, ...) __attribute__((format(printf, 1, 2))) {
        va_list args;
        va_start(args, format);
        std::vprintf(format, args);
        va_end(args);
        std::printf("\n");
        std::fflush(stdout);
    }

    int failures() const { return m_failures; }
    int rowsRun() const { return m_rowsRun; }
    bool hasRowFilter() const { return !m_rowFilter.empty(); }

private:
    static const char* fileName(const char* path) {
        const char* name = path;
        for (const char* p = path; *p; ++p)
            if (*p == '/') name = p + 1;
        return name;
    }
    std::string rowSuffix() const { return m_row.empty() ? std::string() : " [" + m_row + "]"; }

    std::string m_case, m_rowFilter, m_row;
    int m_failures = 0;
    int m_rowsRun = 0;
};

// LLAVA_GPUCHECK_DRY_RUN=1: a second CPU backend stands in for CUDA, so the test code itself (fixture
// handling, row filters, guard rows, tolerances of the paths that are the same on both) can be run on a
// machine without a GPU. Says so loudly; never used by ctest or gpu-check.
inline bool dryRun() {
    const char* value = std::getenv("LLAVA_GPUCHECK_DRY_RUN");
    const bool on = value && *value && std::string_view(value) != "0";
    if (on) std::printf("DRY RUN: the CPU backend stands in for CUDA (this checks the test code, not a GPU)\n");
    return on;
}

struct Case {
    std::string name;
    std::function<void(Context&)> run;
};

// setup() returns an empty string when the cases can run, else the reason they cannot (printed as SKIP).
inline int runCases(int argc, char** argv, const std::function<std::string()>& setup, const std::vector<Case>& cases) {
    std::vector<std::string> wanted(argv + 1, argv + argc);
    if (wanted.size() == 1 && wanted[0] == "--list") {
        for (const Case& c : cases) std::printf("%s\n", c.name.c_str());
        return 0;
    }
    struct Selection {
        const Case* c;
        std::string rowFilter;
    };
    std::vector<Selection> selected;
    for (const std::string& w : wanted) {
        const std::size_t colon = w.find(':');
        const std::string name = w.substr(0, colon);
        const Case* found = nullptr;
        for (const Case& c : cases)
            if (c.name == name) found = &c;
        if (!found) {
            std::fprintf(stderr, "no case named '%s' (--list shows them)\n", name.c_str());
            return 2;
        }
        selected.push_back({found, colon == std::string::npos ? std::string() : w.substr(colon + 1)});
    }
    if (wanted.empty())
        for (const Case& c : cases) selected.push_back({&c, {}});

    const std::string skipReason = setup();
    if (!skipReason.empty()) {
        std::printf("SKIP: %s\n", skipReason.c_str());
        return kSkipExitCode;
    }
    int passed = 0, failed = 0;
    for (const Selection& s : selected) {
        Context ctx(s.c->name, s.rowFilter);
        std::printf("RUN  %s%s\n", s.c->name.c_str(), s.rowFilter.empty() ? "" : (":" + s.rowFilter).c_str());
        std::fflush(stdout);
        s.c->run(ctx);
        if (ctx.hasRowFilter() && ctx.rowsRun() == 0)
            ctx.check(false, "the row filter '" + s.rowFilter + "' matched no row");
        if (ctx.failures() == 0) {
            ++passed;
            std::printf("PASS %s\n", s.c->name.c_str());
        } else {
            ++failed;
            std::printf("FAIL %s: %d failed check(s)\n", s.c->name.c_str(), ctx.failures());
        }
        std::fflush(stdout);
    }
    std::printf("Totals: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

}  // namespace llava::gpucheck
