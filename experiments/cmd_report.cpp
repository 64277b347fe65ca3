// `oblivio report RUN_DIR`: tables (Markdown, CSV, LaTeX) and SVG plots of the results.jsonl
// that `oblivio run` wrote into RUN_DIR (experiments/report.h). Everything is built in memory
// first, so a bad input writes nothing; each file is then written atomically.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "experiments/cli_util.h"
#include "experiments/commands.h"
#include "experiments/report.h"
#include "experiments/results.h"
#include "nn/io/atomic_file.h"

namespace obl::cli {

namespace {

constexpr const char* kReportUsage =
    "usage: oblivio report RUN_DIR [--out DIR] [--format md,csv,tex,svg]\n"
    "\n"
    "Tables and plots of RUN_DIR/results.jsonl (written by oblivio run). Rows are grouped by\n"
    "(table, arch, dataset, cut, kind, method, source, axes); cells are mean \u00b1 std\n"
    "(population) over forget classes and seeds. The Markdown report is printed to stdout.\n"
    "\n"
    "  --out DIR       write the files here instead of RUN_DIR (created if missing)\n"
    "  --format LIST   comma-separated subset of md,csv,tex,svg (default: all):\n"
    "                    md   report.md: main table, ablation tables, per-class table, plot links\n"
    "                    csv  report.csv: one line per group, mean and std columns\n"
    "                    tex  report.tex: booktabs tabulars (\\usepackage{booktabs,amssymb})\n"
    "                    svg  bars_*.svg (A^t_f, A^t_r per method, real vs synthetic) and\n"
    "                         curve_*.svg (per-epoch synthetic agreement vs real accuracy)\n";

int run_report(int argc, char** argv) {
    std::string run_dir, out_dir, format_list = "md,csv,tex,svg";
    for (int i = first_option(argc, argv, "report"); i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(kReportUsage, stdout);
            return 0;
        } else if (arg == "--out") {
            if (i + 1 >= argc) return fail("--out needs a directory");
            out_dir = argv[++i];
        } else if (arg == "--format") {
            if (i + 1 >= argc) return fail("--format needs a list like md,csv,tex,svg");
            format_list = argv[++i];
        } else if (arg.rfind("-", 0) == 0) {
            return fail("unknown option '" + arg + "' for oblivio report (see --help)");
        } else if (run_dir.empty()) {
            run_dir = arg;
        } else {
            return fail("oblivio report takes one RUN_DIR, got '" + run_dir + "' and '" + arg +
                        "'");
        }
    }
    if (run_dir.empty())
        return fail("oblivio report needs RUN_DIR (the directory of results.jsonl)");
    const ReportFormats formats = parse_report_formats(format_list);
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(run_dir, ec)) return fail(run_dir + ": no such directory");
    const fs::path results = fs::path(run_dir) / "results.jsonl";
    if (!fs::is_regular_file(results, ec))
        return fail(results.string() + ": not found (oblivio run writes it)");
    const ResultsFile file(results.string());
    if (file.rows().empty()) return fail(results.string() + " has no complete result rows");

    const ReportOutput report = build_report(file.rows(), formats);
    const fs::path dir = out_dir.empty() ? fs::path(run_dir) : fs::path(out_dir);
    fs::create_directories(dir, ec);
    if (ec) return fail(dir.string() + ": cannot create the directory: " + ec.message());
    for (const auto& [name, contents] : report.files)
        write_file_atomic((dir / name).string(), contents.data(), contents.size());
    std::fputs(report.markdown.c_str(), stdout);
    std::fflush(stdout);
    std::fprintf(stderr, "report: %zu rows, wrote %zu files to %s\n", file.rows().size(),
                 report.files.size(), dir.string().c_str());
    return 0;
}

}  // namespace

int cmd_report(int argc, char** argv) {
    try {
        return run_report(argc, argv);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

}  // namespace obl::cli
