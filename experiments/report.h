// `oblivio report`: the tables and plots of one results.jsonl (experiments/results.h).
//
// Rows are grouped by (table, arch, dataset, cut, kind, method, source, axes); every cell is
// "mean ± std" over the group's rows, i.e. over forget classes and seeds, with the POPULATION std
// (divide by n). A metric absent from every row of a group shows "-" (an empty CSV field).
//
// One section per (table, arch, dataset), laid out like the reference paper's main table:
//   rows     Original, Oracle, then each method x {real, synthetic}
//   columns  Method | Source | D_r-free | D_f-free | [Cut, when the section has several] |
//            A^t_r | A^t_f | AUS | MIA-I | MIA-II | Probe leakage | JS to oracle | Time (s) | n
// Accuracies (A^t_r, A^t_f, MIA-I, MIA-II, probe) in % with 2 decimals, AUS and JS with 4, time
// (timing.total_s) with 1. "D_r-free" / "D_f-free" say that the method never reads the retain /
// forget training data: synthetic rows are free of both; real rows read both; the oracle reads
// D_r only; the original was trained on both. Rows with axes go to one ablation table per set of
// axis names (rows method x axis values); a per-class table gives A^t_f, A^t_r per forget class.
//
// Outputs (file names relative to the output directory):
//   report.md   every table (padded Markdown) and links to the plots
//   report.csv  one line per group (RFC 4180, CRLF, ASCII): keys, yes/no marks, n, then
//               <metric>_mean, <metric>_std in the table's units and decimals
//   report.tex  one booktabs tabular per table (needs \usepackage{booktabs,amssymb})
//   bars_<section>.svg            A^t_f and A^t_r per method, real vs synthetic (+- std whiskers)
//   curve_<section>_<method>_<source>.svg   per epoch: synthetic forget/retain agreement (solid)
//               and real forget/retain accuracy (dashed, when measured), means over the group's
//               rows, and each row's selected epoch
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "experiments/results.h"

namespace obl {

struct ReportFormats {
    bool md = true, csv = true, tex = true, svg = true;
};
// "md,csv,tex,svg" or any non-empty subset; throws obl::Error naming an unknown entry.
ReportFormats parse_report_formats(const std::string& list);

struct ReportOutput {
    std::string markdown;                                    // always built (the command prints it)
    std::vector<std::pair<std::string, std::string>> files;  // file name -> contents
};
// Builds every output in memory (writes nothing). Throws obl::Error when `rows` is empty.
ReportOutput build_report(const std::vector<ResultRow>& rows, const ReportFormats& formats);

// Helpers, public for the tests.
struct MeanStd {
    int n = 0;  // 0: no value ("-")
    double mean = 0, std = 0;
};
MeanStd mean_std(const std::vector<double>& values);  // population std
// "85.00 ± 5.00" with `pm` between (" ± ", " $\pm$ ", ...); "-" when n == 0.
std::string format_mean_std(const MeanStd& s, int decimals, const std::string& pm);
std::string csv_field(const std::string& text);     // RFC 4180 quoting when needed
std::string latex_escape(const std::string& text);  // & % $ # _ { } ~ ^ \ escaped

}  // namespace obl
