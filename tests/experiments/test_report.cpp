// Tests of `oblivio report` (experiments/report.h, cmd_report.cpp) and the SVG writer
// (experiments/svg.h): hand-built result rows with known metrics, checked against hand-computed
// "mean ± std" cells in the Markdown, CSV and LaTeX, SVG well-formedness, and the CLI errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/commands.h"
#include "experiments/report.h"
#include "experiments/results.h"
#include "experiments/svg.h"
#include "kernels/common/check.h"

namespace obl {
namespace {

namespace fs = std::filesystem;

struct ScratchDir {
    fs::path path;
    explicit ScratchDir(const std::string& name)
        : path(fs::temp_directory_path() /
               ("obl_report_" + name + "_" + std::to_string(::getpid()))) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

ResultRow row(const std::string& kind, const std::string& method, const std::string& source,
              int cls, std::map<std::string, double> metrics, double total_s) {
    ResultRow r;
    r.experiment = "paper_main";
    r.table = "main";
    r.arch = "resnet18";
    r.dataset = "cifar10";
    r.kind = kind;
    r.method = method;
    r.source = source;
    r.cut = kind == "unlearn" ? "pre_logits" : "";  // as oblivio run writes baselines
    r.classes = {cls};
    r.git_sha = "abc123";
    r.metrics = std::move(metrics);
    r.timing = {{"total_s", total_s}};
    r.row_id = kind + "/" + method + "/" + source + "/" + std::to_string(cls);
    return r;
}

// 2 forget classes x {original, oracle, finetune, neg_grad x real/synthetic}, and an ablation
// over samples_per_class. The expected cells below are computed by hand from these numbers.
std::vector<ResultRow> paper_rows() {
    std::vector<ResultRow> rows;
    rows.push_back(row("original", "", "", 3, {{"A_r_test", 0.95}, {"A_f_test", 0.94}}, 100));
    rows.push_back(row("original", "", "", 5, {{"A_r_test", 0.93}, {"A_f_test", 0.96}}, 120));
    rows.push_back(row("oracle", "", "", 3, {{"A_r_test", 0.94}, {"A_f_test", 0.0}}, 50));
    rows.push_back(row("oracle", "", "", 5, {{"A_r_test", 0.92}, {"A_f_test", 0.0}}, 50));
    rows.push_back(row("unlearn", "finetune", "real", 3,
                       {{"A_r_test", 0.90},
                        {"A_f_test", 0.10},
                        {"AUS", 0.8},
                        {"MIA_I", 0.5},
                        {"MIA_II_mean", 0.6},
                        {"probe_forget", 0.7},
                        {"JS_oracle", 0.1}},
                       10));
    rows.push_back(row("unlearn", "finetune", "real", 5,
                       {{"A_r_test", 0.80},
                        {"A_f_test", 0.30},
                        {"AUS", 0.6},
                        {"MIA_I", 0.7},
                        {"MIA_II_mean", 0.5},
                        {"probe_forget", 0.5},
                        {"JS_oracle", 0.3}},
                       20));
    rows.push_back(
        row("unlearn", "finetune", "synthetic", 3, {{"A_r_test", 0.91}, {"A_f_test", 0.02}}, 2));
    rows.push_back(
        row("unlearn", "finetune", "synthetic", 5, {{"A_r_test", 0.89}, {"A_f_test", 0.04}}, 4));
    rows.push_back(row("unlearn", "neg_grad", "real", 3, {{"A_r_test", 0.7}, {"A_f_test", 0}}, 1));
    rows.push_back(row("unlearn", "neg_grad", "real", 5, {{"A_r_test", 0.7}, {"A_f_test", 0}}, 1));
    // A_f measured on one of the two rows only: the cell averages the rows that have it.
    rows.push_back(
        row("unlearn", "neg_grad", "synthetic", 3, {{"A_r_test", 0.88}, {"A_f_test", 0.05}}, 1));
    rows.push_back(row("unlearn", "neg_grad", "synthetic", 5, {{"A_r_test", 0.86}}, 1));
    // Curves on the finetune synthetic rows: real accuracies measured on class 3 only.
    rows[6].curve = {{1, 0.80, 0.99, -1.0, 0.70, 0.95}, {2, 0.10, 0.97, 1.0, 0.05, 0.93}};
    rows[6].selected_epoch = 2;
    rows[7].curve = {{1, 0.60, 0.98, -0.5, -1, -1}, {2, 0.20, 0.96, 0.5, -1, -1}};
    rows[7].selected_epoch = 1;
    for (int n : {500, 1000, 50}) {
        ResultRow r = row("unlearn", "neg_grad", "synthetic", 3,
                          {{"A_r_test", 0.8 + n / 1e4}, {"A_f_test", 0.1}}, 1);
        r.axes = {{"samples_per_class", std::to_string(n)}};
        r.row_id += "/spc" + std::to_string(n);
        rows.push_back(r);
    }
    return rows;
}

// The cells of the Markdown table that follows the line `heading`, one vector per line.
std::vector<std::vector<std::string>> md_table(const std::string& md, const std::string& heading) {
    std::vector<std::vector<std::string>> table;
    std::istringstream in(md.substr(md.find(heading + "\n")));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        if (line.empty() && table.empty()) continue;
        if (line.empty() || line[0] != '|') break;
        std::vector<std::string> cells;
        size_t start = 1;
        for (size_t bar = line.find('|', 1); bar != std::string::npos;
             start = bar + 1, bar = line.find('|', start)) {
            std::string c = line.substr(start, bar - start);
            c.erase(0, c.find_first_not_of(' '));
            c.erase(c.find_last_not_of(' ') + 1);
            cells.push_back(c);
        }
        table.push_back(cells);
    }
    return table;
}

// The body row of `table` whose first two cells are (a, b).
std::vector<std::string> md_row(const std::vector<std::vector<std::string>>& table,
                                const std::string& a, const std::string& b) {
    for (size_t i = 2; i < table.size(); ++i)
        if (table[i].size() > 1 && table[i][0] == a && table[i][1] == b) return table[i];
    ADD_FAILURE() << "no row " << a << " / " << b;
    return {};
}

const std::string& file(const ReportOutput& out, const std::string& name) {
    for (const auto& f : out.files)
        if (f.first == name) return f.second;
    static const std::string none;
    ADD_FAILURE() << "no output file " << name;
    return none;
}

// Tags balance, entities are known, and every geometry attribute is a finite number.
::testing::AssertionResult well_formed_svg(const std::string& svg) {
    std::vector<std::string> open;
    size_t pos = svg.find('<');
    if (svg.rfind("<?xml", 0) != 0) return ::testing::AssertionFailure() << "no XML declaration";
    while (pos != std::string::npos) {
        const size_t end = svg.find('>', pos);
        if (end == std::string::npos) return ::testing::AssertionFailure() << "unclosed <";
        const std::string tag = svg.substr(pos + 1, end - pos - 1);
        if (tag[0] == '?') {
        } else if (tag[0] == '/') {
            if (open.empty() || open.back() != tag.substr(1))
                return ::testing::AssertionFailure() << "unbalanced </" << tag.substr(1) << ">";
            open.pop_back();
        } else if (tag.back() != '/') {
            open.push_back(tag.substr(0, tag.find(' ')));
        }
        const size_t next = svg.find('<', end);
        const std::string text =
            svg.substr(end + 1, next == std::string::npos ? std::string::npos : next - end - 1);
        if (text.find('>') != std::string::npos)
            return ::testing::AssertionFailure() << "raw > in text: " << text;
        for (size_t amp = text.find('&'); amp != std::string::npos; amp = text.find('&', amp + 1)) {
            bool known = false;
            for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
                known |= text.compare(amp, std::strlen(e), e) == 0;
            if (!known) return ::testing::AssertionFailure() << "bad entity in: " << text;
        }
        pos = next;
    }
    if (!open.empty()) return ::testing::AssertionFailure() << "unclosed <" << open.back() << ">";
    // Every numeric attribute (x, y, ..., points) holds finite numbers only.
    for (const char* attr :
         {"x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height", "points"}) {
        const std::string key = std::string(" ") + attr + "=\"";
        for (size_t at = svg.find(key); at != std::string::npos; at = svg.find(key, at + 1)) {
            const size_t begin = at + key.size(), close = svg.find('"', begin);
            std::string value = svg.substr(begin, close - begin);
            for (char& c : value)
                if (c == ',') c = ' ';
            std::istringstream in(value);
            std::string token;
            while (in >> token) {
                char* end = nullptr;
                const double v = std::strtod(token.c_str(), &end);
                if (*end != '\0' || !std::isfinite(v))
                    return ::testing::AssertionFailure() << attr << "=\"" << value << "\"";
            }
        }
    }
    return ::testing::AssertionSuccess();
}

TEST(Report, MeanStdIsThePopulationStd) {
    const MeanStd s = mean_std({2, 4, 4, 4, 5, 5, 7, 9});
    EXPECT_EQ(s.n, 8);
    EXPECT_DOUBLE_EQ(s.mean, 5);
    EXPECT_DOUBLE_EQ(s.std, 2);  // the textbook example: population std 2, sample std 2.14
    EXPECT_EQ(format_mean_std(s, 2, " \u00b1 "), "5.00 \u00b1 2.00");
    EXPECT_EQ(format_mean_std(mean_std({}), 2, " \u00b1 "), "-");
    EXPECT_EQ(format_mean_std(mean_std({-0.001}), 2, "+-"), "0.00+-0.00");  // no "-0.00"
}

TEST(Report, MainTableCellsAreMeanAndStdOverClasses) {
    const ReportOutput out = build_report(paper_rows(), ReportFormats{});
    const auto t = md_table(out.markdown, "## main: resnet18 on cifar10");
    ASSERT_EQ(t.size(), 8u) << out.markdown;  // header, rule, 6 groups
    EXPECT_EQ(t[0],
              (std::vector<std::string>{"Method", "Source", "D_r-free", "D_f-free", "A^t_r (%)",
                                        "A^t_f (%)", "AUS", "MIA-I (%)", "MIA-II (%)",
                                        "Probe leakage (%)", "JS to oracle", "Time (s)", "n"}));
    // Row order: Original, Oracle, then methods in file order, real before synthetic.
    const std::vector<std::pair<std::string, std::string>> order = {
        {"Original", "-"},         {"Oracle", "-"},      {"finetune", "real"},
        {"finetune", "synthetic"}, {"neg_grad", "real"}, {"neg_grad", "synthetic"}};
    for (size_t i = 0; i < order.size(); ++i) {
        EXPECT_EQ(t[i + 2][0], order[i].first);
        EXPECT_EQ(t[i + 2][1], order[i].second);
    }
    const std::string pm = " \u00b1 ", yes = "\u2713", no = "\u2717";
    EXPECT_EQ(md_row(t, "Original", "-"),
              (std::vector<std::string>{"Original", "-", no, no, "94.00" + pm + "1.00",
                                        "95.00" + pm + "1.00", "-", "-", "-", "-", "-",
                                        "110.0" + pm + "10.0", "2"}));
    EXPECT_EQ(md_row(t, "Oracle", "-"),
              (std::vector<std::string>{"Oracle", "-", no, yes, "93.00" + pm + "1.00",
                                        "0.00" + pm + "0.00", "-", "-", "-", "-", "-",
                                        "50.0" + pm + "0.0", "2"}));
    EXPECT_EQ(md_row(t, "finetune", "real"),
              (std::vector<std::string>{
                  "finetune", "real", no, no, "85.00" + pm + "5.00", "20.00" + pm + "10.00",
                  "0.7000" + pm + "0.1000", "60.00" + pm + "10.00", "55.00" + pm + "5.00",
                  "60.00" + pm + "10.00", "0.2000" + pm + "0.1000", "15.0" + pm + "5.0", "2"}));
    EXPECT_EQ(md_row(t, "finetune", "synthetic"),
              (std::vector<std::string>{"finetune", "synthetic", yes, yes, "90.00" + pm + "1.00",
                                        "3.00" + pm + "1.00", "-", "-", "-", "-", "-",
                                        "3.0" + pm + "1.0", "2"}));
    const auto ng = md_row(t, "neg_grad", "synthetic");
    ASSERT_EQ(ng.size(), 13u);
    EXPECT_EQ(ng[4], "87.00" + pm + "1.00");
    EXPECT_EQ(ng[5], "5.00" + pm + "0.00");  // the one row that measured it
    EXPECT_EQ(ng[12], "2");
    // The report starts with the stdout summary and names the commit.
    EXPECT_EQ(out.markdown.rfind("# oblivio report\n", 0), 0u);
    EXPECT_NE(out.markdown.find("15 result rows, git abc123."), std::string::npos);
}

TEST(Report, AblationAndPerClassTables) {
    const ReportOutput out = build_report(paper_rows(), ReportFormats{});
    const auto a = md_table(out.markdown, "### Ablation over samples_per_class");
    ASSERT_EQ(a.size(), 5u) << out.markdown;
    EXPECT_EQ(a[0], (std::vector<std::string>{"Method", "Source", "samples_per_class", "A^t_r (%)",
                                              "A^t_f (%)", "Time (s)", "n"}));
    // Numeric axis values in numeric order.
    EXPECT_EQ(a[2][2], "50");
    EXPECT_EQ(a[3][2], "500");
    EXPECT_EQ(a[4][2], "1000");
    EXPECT_EQ(a[4][3], "90.00 \u00b1 0.00");

    const auto c = md_table(out.markdown, "### Per forget class");
    ASSERT_EQ(c.size(), 2u + 2 * 6) << out.markdown;
    EXPECT_EQ(c[0], (std::vector<std::string>{"Class", "Method", "Source", "A^t_f (%)", "A^t_r (%)",
                                              "n"}));
    EXPECT_EQ(c[2], (std::vector<std::string>{"3", "Original", "-", "94.00 \u00b1 0.00",
                                              "95.00 \u00b1 0.00", "1"}));
    EXPECT_EQ(c[8 + 2], (std::vector<std::string>{"5", "finetune", "real", "30.00 \u00b1 0.00",
                                                  "80.00 \u00b1 0.00", "1"}));
    EXPECT_EQ(c[13], (std::vector<std::string>{"5", "neg_grad", "synthetic", "-",
                                               "86.00 \u00b1 0.00", "1"}));
}

TEST(Report, SeveralCutsGetACutColumn) {
    std::vector<ResultRow> rows = paper_rows();
    EXPECT_EQ(md_table(build_report(rows, ReportFormats{}).markdown,
                       "## main: resnet18 on cifar10")[0][4],
              "A^t_r (%)");  // one cut (baselines have none): no Cut column
    for (int i : {4, 5}) {
        ResultRow r = rows[i];
        r.cut = "last_block";
        r.row_id += "/last_block";
        r.metrics = {{"A_r_test", 0.5}};
        rows.push_back(r);
    }
    const ReportOutput out = build_report(rows, ReportFormats{});
    const auto t = md_table(out.markdown, "## main: resnet18 on cifar10");
    ASSERT_EQ(t.size(), 9u) << out.markdown;
    EXPECT_EQ(t[0][4], "Cut");
    EXPECT_EQ(t[2][4], "-");  // Original
    EXPECT_EQ(t[4], (std::vector<std::string>{"finetune", "real", "\u2717", "\u2717", "pre_logits",
                                              "85.00 \u00b1 5.00", "20.00 \u00b1 10.00",
                                              "0.7000 \u00b1 0.1000", "60.00 \u00b1 10.00",
                                              "55.00 \u00b1 5.00", "60.00 \u00b1 10.00",
                                              "0.2000 \u00b1 0.1000", "15.0 \u00b1 5.0", "2"}));
    EXPECT_EQ(t[5][4], "last_block");
    EXPECT_EQ(t[5][5], "50.00 \u00b1 0.00");
    EXPECT_NE(file(out, "bars_main_resnet18_cifar10.svg").find(">finetune @last_block<"),
              std::string::npos);
}

TEST(Report, CsvHasOneQuotedAsciiLinePerGroup) {
    const ReportOutput out = build_report(paper_rows(), ReportFormats{});
    const std::string& csv = file(out, "report.csv");
    for (unsigned char ch : csv) ASSERT_LT(ch, 128) << "non-ASCII byte in the CSV";
    std::vector<std::string> lines;
    for (size_t start = 0, end; (end = csv.find("\r\n", start)) != std::string::npos;
         start = end + 2)
        lines.push_back(csv.substr(start, end - start));
    ASSERT_EQ(lines.size(), 1u + 6 + 3);  // header, 6 main groups, 3 ablation groups
    EXPECT_EQ(lines[0],
              "table,arch,dataset,cut,kind,method,source,axes,D_r_free,D_f_free,n,A_r_pct_mean,"
              "A_r_pct_std,A_f_pct_mean,A_f_pct_std,AUS_mean,AUS_std,MIA_I_pct_mean,"
              "MIA_I_pct_std,MIA_II_pct_mean,MIA_II_pct_std,probe_forget_pct_mean,"
              "probe_forget_pct_std,JS_oracle_mean,JS_oracle_std,time_s_mean,time_s_std");
    EXPECT_EQ(lines[3],
              "main,resnet18,cifar10,pre_logits,unlearn,finetune,real,,no,no,2,85.00,5.00,20.00,"
              "10.00,0.7000,0.1000,60.00,10.00,55.00,5.00,60.00,10.00,0.2000,0.1000,15.0,5.0");
    EXPECT_EQ(lines[4],
              "main,resnet18,cifar10,pre_logits,unlearn,finetune,synthetic,,yes,yes,2,90.00,1.00,"
              "3.00,1.00,,,,,,,,,,,3.0,1.0");
    EXPECT_EQ(lines[2].rfind("main,resnet18,cifar10,,oracle,,,,no,yes,2,93.00,1.00,0.00,", 0), 0u)
        << lines[2];
    EXPECT_NE(lines[7].find(",samples_per_class=50,yes,yes,1,"), std::string::npos) << lines[7];

    EXPECT_EQ(csv_field("plain"), "plain");
    EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
}

TEST(Report, LatexIsEscapedBooktabs) {
    EXPECT_EQ(latex_escape("a_b&c%d$e#f{g}h~i^j\\k"),
              "a\\_b\\&c\\%d\\$e\\#f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j"
              "\\textbackslash{}k");
    const ReportOutput out = build_report(paper_rows(), ReportFormats{});
    const std::string& tex = file(out, "report.tex");
    EXPECT_NE(tex.find("\\begin{tabular}{llccrrrrrrrrr}\n\\toprule\n"), std::string::npos);
    EXPECT_NE(tex.find("\\bottomrule\n\\end{tabular}"), std::string::npos);
    EXPECT_NE(tex.find("neg\\_grad & synthetic & $\\checkmark$ & $\\checkmark$ & 87.00 $\\pm$ "
                       "1.00 & 5.00 $\\pm$ 0.00 & - &"),
              std::string::npos)
        << tex;
    EXPECT_NE(tex.find("samples\\_per\\_class"), std::string::npos);
    EXPECT_EQ(tex.find("neg_grad"), std::string::npos);  // every underscore escaped
    // A rule between the baselines and the methods.
    EXPECT_NE(tex.find("Oracle & - & $\\times$ & $\\checkmark$ & 93.00 $\\pm$ 1.00"),
              std::string::npos);
    EXPECT_NE(tex.find(" \\\\\n\\midrule\nfinetune & real"), std::string::npos) << tex;
}

TEST(Report, SvgPlotsAreWellFormed) {
    const ReportOutput out = build_report(paper_rows(), ReportFormats{});
    const std::string& bars = file(out, "bars_main_resnet18_cifar10.svg");
    EXPECT_TRUE(well_formed_svg(bars));
    for (const char* name : {"A^t_f (real)", "A^t_f (synthetic)", "A^t_r (real)",
                             "A^t_r (synthetic)", "finetune", "neg_grad"})
        EXPECT_NE(bars.find(std::string(">") + name + "<"), std::string::npos) << name;
    const std::string& curve = file(out, "curve_main_resnet18_cifar10_finetune_synthetic.svg");
    EXPECT_TRUE(well_formed_svg(curve));
    for (const char* name : {"synthetic forget agreement", "synthetic retain agreement",
                             "real forget accuracy", "real retain accuracy", "selected epoch"})
        EXPECT_NE(curve.find(std::string(">") + name + "<"), std::string::npos) << name;
    // Only the finetune synthetic rows have curves; the Markdown links both plots.
    int svgs = 0;
    for (const auto& f : out.files) svgs += f.first.find(".svg") != std::string::npos;
    EXPECT_EQ(svgs, 2);
    EXPECT_NE(out.markdown.find("(bars_main_resnet18_cifar10.svg)"), std::string::npos);
    EXPECT_NE(out.markdown.find("(curve_main_resnet18_cifar10_finetune_synthetic.svg)"),
              std::string::npos);

    ReportFormats md_only{true, false, false, false};
    const ReportOutput small = build_report(paper_rows(), md_only);
    ASSERT_EQ(small.files.size(), 1u);
    EXPECT_EQ(small.files[0].first, "report.md");
    EXPECT_EQ(small.markdown.find(".svg"), std::string::npos);
    EXPECT_THROW(build_report({}, ReportFormats{}), Error);
}

TEST(Svg, FigureApi) {
    svg::Figure fig{"a < b & \"c\"", "epoch", "y"};
    fig.add_line("line <1>", {0, 1, 2}, {0, 5, 10});
    fig.add_scatter("dots", {1}, {5}).color = "#000000";
    const std::string s = fig.to_svg();
    EXPECT_TRUE(well_formed_svg(s));
    EXPECT_NE(s.find(">a &lt; b &amp; &quot;c&quot;<"), std::string::npos);
    EXPECT_NE(s.find(">line &lt;1&gt;<"), std::string::npos);
    EXPECT_NE(s.find("fill=\"#000000\""), std::string::npos);
    EXPECT_NE(s.find("stroke=\"" + svg::palette()[0] + "\""), std::string::npos);
    // The line rises: its first point is lower (larger y) and further left than its last.
    const size_t at = s.find("points=\"");
    ASSERT_NE(at, std::string::npos);
    std::string pts = s.substr(at + 8, s.find('"', at + 8) - at - 8);
    for (char& c : pts)
        if (c == ',') c = ' ';
    std::istringstream in(pts);
    std::vector<double> v;
    for (double d; in >> d;) v.push_back(d);
    ASSERT_EQ(v.size(), 6u);  // three points
    EXPECT_LT(v[0], v[4]);    // first x < last x
    EXPECT_GT(v[1], v[5]);    // first y > last y (SVG y grows downwards)

    EXPECT_EQ(svg::nice_ticks(0, 1),
              (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
    EXPECT_EQ(svg::nice_ticks(3, 97), (std::vector<double>{0, 20, 40, 60, 80, 100}));
    EXPECT_EQ(svg::nice_ticks(-3, 3, 4), (std::vector<double>{-4, -2, 0, 2, 4}));

    svg::Figure bad{"t", "x", "y"};
    EXPECT_THROW(bad.add_line("nan", {0, 1}, {0, NAN}), Error);
    EXPECT_THROW(bad.add_line("short", {0, 1}, {0}), Error);
    EXPECT_THROW(bad.to_svg(), Error);  // no series
    bad.add_bars("bars", {"a", "b"}, {1, NAN}, {0.5, 0});
    EXPECT_TRUE(well_formed_svg(bad.to_svg()));
    bad.add_line("line", {0}, {1});
    EXPECT_THROW(bad.to_svg(), Error);  // bars and lines do not share axes
}

// cmd_report through its argv, as main() calls it.
int run_cmd(std::vector<std::string> args, std::string* err = nullptr, std::string* out = nullptr) {
    args.insert(args.begin(), "report");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ::testing::internal::CaptureStderr();
    ::testing::internal::CaptureStdout();
    const int rc = cli::cmd_report(static_cast<int>(argv.size()), argv.data());
    const std::string o = ::testing::internal::GetCapturedStdout();
    const std::string e = ::testing::internal::GetCapturedStderr();
    if (err) *err = e;
    if (out) *out = o;
    return rc;
}

size_t entries(const fs::path& dir) {
    return std::distance(fs::directory_iterator(dir), fs::directory_iterator());
}

TEST(CmdReport, ErrorsExitTwoWithOneLineAndWriteNothing) {
    ScratchDir dir("cmd_errors");
    std::string err;
    EXPECT_EQ(run_cmd({(dir.path / "missing").string()}, &err), 2);
    EXPECT_EQ(err, "error: " + (dir.path / "missing").string() + ": no such directory\n");
    EXPECT_FALSE(fs::exists(dir.path / "missing"));

    EXPECT_EQ(run_cmd({dir.path.string()}, &err), 2);  // no results.jsonl
    EXPECT_EQ(err.rfind("error: ", 0), 0u);
    EXPECT_NE(err.find("results.jsonl: not found"), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
    EXPECT_EQ(entries(dir.path), 0u);

    std::ofstream(dir.path / "results.jsonl") << paper_rows()[0].to_json() << "\n{oops}\n";
    EXPECT_EQ(run_cmd({dir.path.string(), "--out", (dir.path / "o").string()}, &err), 2);
    EXPECT_NE(err.find("results.jsonl:2"), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
    EXPECT_EQ(entries(dir.path), 1u);  // only results.jsonl: no report, no --out directory

    EXPECT_EQ(run_cmd({}, &err), 2);
    EXPECT_EQ(run_cmd({dir.path.string(), "--format", "md,pdf"}, &err), 2);
    EXPECT_NE(err.find("unknown format 'pdf'"), std::string::npos) << err;
    EXPECT_EQ(run_cmd({dir.path.string(), "--bogus"}, &err), 2);
    EXPECT_EQ(entries(dir.path), 1u);
}

TEST(CmdReport, WritesTheChosenFormatsAndPrintsMarkdown) {
    ScratchDir dir("cmd_ok");
    {
        ResultsFile results((dir.path / "run" / "results.jsonl").string());
        for (const ResultRow& r : paper_rows()) results.append(r);
    }
    std::string err, out;
    const fs::path out_dir = dir.path / "tables";
    ASSERT_EQ(
        run_cmd({(dir.path / "run").string(), "--out", out_dir.string(), "--format", "md,csv"},
                &err, &out),
        0)
        << err;
    EXPECT_EQ(entries(out_dir), 2u);
    EXPECT_EQ(read_all(out_dir / "report.md"), out);
    EXPECT_NE(read_all(out_dir / "report.csv").find("finetune,real"), std::string::npos);
    EXPECT_EQ(entries(dir.path / "run"), 1u);  // --out: the run directory is left alone

    ASSERT_EQ(run_cmd({(dir.path / "run").string()}, &err, &out), 0) << err;
    EXPECT_EQ(entries(dir.path / "run"), 1u + 3 + 2);  // results, md/csv/tex, 2 SVGs
    EXPECT_TRUE(well_formed_svg(read_all(dir.path / "run" / "bars_main_resnet18_cifar10.svg")));
}

}  // namespace
}  // namespace obl
