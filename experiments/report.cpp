// The report builder (experiments/report.h): groups result rows, renders the tables as Markdown,
// CSV and LaTeX, and draws the plots with experiments/svg.h.
#include "experiments/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "experiments/svg.h"
#include "kernels/common/check.h"

namespace obl {

namespace {

using Axes = std::vector<std::pair<std::string, std::string>>;

// One numeric column: where the value lives in a row, and how it is shown.
struct Metric {
    const char* key;  // in ResultRow::metrics, or ResultRow::timing when `timing`
    bool timing;
    double scale;  // 100: a [0, 1] share shown in %
    int decimals;
    const char* md;   // Markdown header
    const char* tex;  // LaTeX header
    const char* csv;  // CSV column stem (_mean / _std appended)
};

const std::vector<Metric>& all_metrics() {
    static const std::vector<Metric> m = {
        {"A_r_test", false, 100, 2, "A^t_r (%)", "$A^t_r$ (\\%)", "A_r_pct"},
        {"A_f_test", false, 100, 2, "A^t_f (%)", "$A^t_f$ (\\%)", "A_f_pct"},
        {"AUS", false, 1, 4, "AUS", "AUS", "AUS"},
        {"MIA_I", false, 100, 2, "MIA-I (%)", "MIA-I (\\%)", "MIA_I_pct"},
        {"MIA_II_mean", false, 100, 2, "MIA-II (%)", "MIA-II (\\%)", "MIA_II_pct"},
        {"probe_forget", false, 100, 2, "Probe leakage (%)", "Probe (\\%)", "probe_forget_pct"},
        {"JS_oracle", false, 1, 4, "JS to oracle", "JS to oracle", "JS_oracle"},
        {"total_s", true, 1, 1, "Time (s)", "Time (s)", "time_s"},
    };
    return m;
}
const Metric& metric(const std::string& key) {
    for (const Metric& m : all_metrics())
        if (m.key == key) return m;
    OBL_THROW("internal error: no report metric ", key);
}

// ---- grouping ------------------------------------------------------------------------------

std::string join_axes(const Axes& axes, const char* sep) {
    std::string out;
    for (const auto& [name, value] : axes) out += (out.empty() ? "" : sep) + name + "=" + value;
    return out;
}

std::string classes_label(const std::vector<int>& classes) {
    std::string out;
    for (int c : classes) out += (out.empty() ? "" : ",") + std::to_string(c);
    return out.empty() ? "-" : out;
}

bool parse_number(const std::string& s, double& v) {
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    return !s.empty() && end && *end == '\0';
}

// Axis values compare as numbers when both are numbers ("500" < "1000"), else as text.
bool axes_less(const Axes& a, const Axes& b) {
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        if (a[i].first != b[i].first) return a[i].first < b[i].first;
        double x = 0, y = 0;
        if (parse_number(a[i].second, x) && parse_number(b[i].second, y)) {
            if (x != y) return x < y;
        } else if (a[i].second != b[i].second) {
            return a[i].second < b[i].second;
        }
    }
    return a.size() < b.size();
}

int kind_rank(const std::string& kind) { return kind == "original" ? 0 : kind == "oracle" ? 1 : 2; }
int source_rank(const std::string& source) {
    return source == "real" ? 0 : source == "synthetic" ? 1 : 2;
}

// Positions in order of first appearance (methods and cuts are shown in the file's order).
struct FirstSeen {
    std::map<std::string, int> index;
    void see(const std::string& s) { index.emplace(s, static_cast<int>(index.size())); }
    int of(const std::string& s) const { return index.at(s); }
};

struct Group {
    std::string table, arch, dataset, cut, kind, method, source;
    Axes axes;
    std::vector<int> classes;  // set only for per-class groups
    std::vector<const ResultRow*> rows;

    MeanStd stat(const Metric& m) const {
        std::vector<double> values;
        for (const ResultRow* r : rows) {
            const auto& map = m.timing ? r->timing : r->metrics;
            const auto it = map.find(m.key);
            if (it != map.end()) values.push_back(it->second * m.scale);
        }
        return mean_std(values);
    }
    bool baseline() const { return kind != "unlearn"; }
    // Never reads the retain / forget training data.
    bool retain_free() const { return kind == "unlearn" && source == "synthetic"; }
    bool forget_free() const { return kind == "oracle" || retain_free(); }
    std::string label() const {
        if (kind == "original") return "Original";
        if (kind == "oracle") return "Oracle";
        return method.empty() ? "-" : method;
    }
};

// Groups `rows` (optionally also by forget classes), sorted for display: classes, Original,
// Oracle, then methods in file order, real before synthetic, cuts in file order, axis values.
std::vector<Group> make_groups(const std::vector<const ResultRow*>& rows, bool by_class,
                               const FirstSeen& methods, const FirstSeen& cuts) {
    std::vector<Group> groups;
    std::map<std::string, size_t> index;
    for (const ResultRow* r : rows) {
        const char sep = '\x1f';
        std::string key = r->table + sep + r->arch + sep + r->dataset + sep + r->cut + sep +
                          r->kind + sep + r->method + sep + r->source + sep +
                          join_axes(r->axes, "\x1e");
        if (by_class) key += sep + classes_label(r->classes);
        auto [it, added] = index.emplace(key, groups.size());
        if (added)
            groups.push_back(Group{r->table,
                                   r->arch,
                                   r->dataset,
                                   r->cut,
                                   r->kind,
                                   r->method,
                                   r->source,
                                   r->axes,
                                   by_class ? r->classes : std::vector<int>{},
                                   {}});
        groups[it->second].rows.push_back(r);
    }
    std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
        if (a.classes != b.classes) return a.classes < b.classes;
        if (kind_rank(a.kind) != kind_rank(b.kind)) return kind_rank(a.kind) < kind_rank(b.kind);
        if (a.method != b.method) return methods.of(a.method) < methods.of(b.method);
        if (source_rank(a.source) != source_rank(b.source))
            return source_rank(a.source) < source_rank(b.source);
        if (a.source != b.source) return a.source < b.source;
        if (a.cut != b.cut) return cuts.of(a.cut) < cuts.of(b.cut);
        return axes_less(a.axes, b.axes);
    });
    return groups;
}

// One (table, arch, dataset) of the results.
struct Section {
    std::string table, arch, dataset;
    std::vector<const ResultRow*> rows;
    std::vector<Group> groups;  // display order
    bool many_cuts = false;     // unlearning rows at several cuts: show a Cut column
    std::string title() const {
        return (table.empty() ? std::string("results") : table) + ": " + arch + " on " + dataset;
    }
};

std::string slug(const std::string& s) {
    std::string out;
    for (char c : s)
        out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
    return out;
}

// ---- tables --------------------------------------------------------------------------------

struct Cell {
    enum class Kind { Text, Mark, Stat };
    Kind kind = Kind::Text;
    std::string text;
    bool yes = false;  // Mark
    MeanStd stat;      // Stat
    int decimals = 0;
};
Cell text_cell(const std::string& s) { return Cell{Cell::Kind::Text, s, false, {}, 0}; }
Cell mark_cell(bool yes) { return Cell{Cell::Kind::Mark, "", yes, {}, 0}; }
Cell stat_cell(const MeanStd& s, int decimals) {
    return Cell{Cell::Kind::Stat, "", false, s, decimals};
}

struct Table {
    std::string title;
    std::vector<std::string> md_header, tex_header;
    std::string align;  // one of l, c, r per column
    std::vector<std::vector<Cell>> rows;
    std::vector<size_t> rules;  // a separator rule before these rows

    void column(const std::string& md, const std::string& tex, char a) {
        md_header.push_back(md);
        tex_header.push_back(tex);
        align += a;
    }
};

// The metric columns of a table: all of them (the main table keeps the paper's layout) or only
// those measured in at least one group.
std::vector<const Metric*> metric_columns(const std::vector<const Group*>& groups, bool all) {
    std::vector<const Metric*> out;
    for (const Metric& m : all_metrics()) {
        bool any = all;
        for (const Group* g : groups) any = any || g->stat(m).n > 0;
        if (any) out.push_back(&m);
    }
    return out;
}

void add_metric_cells(std::vector<Cell>& cells, const Group& g,
                      const std::vector<const Metric*>& columns) {
    for (const Metric* m : columns) cells.push_back(stat_cell(g.stat(*m), m->decimals));
    cells.push_back(text_cell(std::to_string(g.rows.size())));
}

Table main_table(const Section& s, const std::vector<const Group*>& groups) {
    Table t;
    t.title = s.title();
    t.column("Method", "Method", 'l');
    t.column("Source", "Source", 'l');
    t.column("D_r-free", "$\\mathcal{D}_r$-free", 'c');
    t.column("D_f-free", "$\\mathcal{D}_f$-free", 'c');
    if (s.many_cuts) t.column("Cut", "Cut", 'l');
    const auto columns = metric_columns(groups, true);
    for (const Metric* m : columns) t.column(m->md, m->tex, 'r');
    t.column("n", "$n$", 'r');
    for (size_t i = 0; i < groups.size(); ++i) {
        const Group& g = *groups[i];
        if (i > 0 && groups[i - 1]->baseline() && !g.baseline()) t.rules.push_back(t.rows.size());
        std::vector<Cell> cells = {text_cell(g.label()),
                                   text_cell(g.source.empty() ? "-" : g.source),
                                   mark_cell(g.retain_free()), mark_cell(g.forget_free())};
        if (s.many_cuts) cells.push_back(text_cell(g.cut.empty() ? "-" : g.cut));
        add_metric_cells(cells, g, columns);
        t.rows.push_back(std::move(cells));
    }
    return t;
}

// Rows method x axis values for one set of axis names.
std::string axis_names(const Group& g) {
    std::string names;
    for (const auto& axis : g.axes) names += (names.empty() ? "" : ", ") + axis.first;
    return names;
}

Table ablation_table(const Section& s, const std::vector<const Group*>& groups) {
    Table t;
    t.title = s.title() + ", ablation over " + axis_names(*groups.front());
    t.column("Method", "Method", 'l');
    t.column("Source", "Source", 'l');
    if (s.many_cuts) t.column("Cut", "Cut", 'l');
    for (const auto& axis : groups.front()->axes)
        t.column(axis.first, latex_escape(axis.first), 'r');
    const auto columns = metric_columns(groups, false);
    for (const Metric* m : columns) t.column(m->md, m->tex, 'r');
    t.column("n", "$n$", 'r');
    for (const Group* g : groups) {
        std::vector<Cell> cells = {text_cell(g->label()),
                                   text_cell(g->source.empty() ? "-" : g->source)};
        if (s.many_cuts) cells.push_back(text_cell(g->cut.empty() ? "-" : g->cut));
        for (const auto& axis : g->axes) cells.push_back(text_cell(axis.second));
        add_metric_cells(cells, *g, columns);
        t.rows.push_back(std::move(cells));
    }
    return t;
}

Table per_class_table(const Section& s, const std::vector<Group>& groups) {
    Table t;
    t.title = s.title() + ", per forget class";
    t.column("Class", "Class", 'l');
    t.column("Method", "Method", 'l');
    t.column("Source", "Source", 'l');
    if (s.many_cuts) t.column("Cut", "Cut", 'l');
    const std::vector<const Metric*> columns = {&metric("A_f_test"), &metric("A_r_test")};
    for (const Metric* m : columns) t.column(m->md, m->tex, 'r');
    t.column("n", "$n$", 'r');
    for (size_t i = 0; i < groups.size(); ++i) {
        const Group& g = groups[i];
        if (i > 0 && groups[i - 1].classes != g.classes) t.rules.push_back(t.rows.size());
        std::vector<Cell> cells = {text_cell(classes_label(g.classes)), text_cell(g.label()),
                                   text_cell(g.source.empty() ? "-" : g.source)};
        if (s.many_cuts) cells.push_back(text_cell(g.cut.empty() ? "-" : g.cut));
        add_metric_cells(cells, g, columns);
        t.rows.push_back(std::move(cells));
    }
    return t;
}

// Display width of UTF-8 text (one column per code point; enough for ± ✓ ✗).
size_t display_width(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

std::string md_cell(const Cell& c) {
    switch (c.kind) {
        case Cell::Kind::Mark:
            return c.yes ? "\u2713" : "\u2717";
        case Cell::Kind::Stat:
            return format_mean_std(c.stat, c.decimals, " \u00b1 ");
        case Cell::Kind::Text:
            break;
    }
    std::string out;
    for (char ch : c.text) out += ch == '|' ? std::string("\\|") : std::string(1, ch);
    return out;
}

std::string tex_cell(const Cell& c) {
    switch (c.kind) {
        case Cell::Kind::Mark:
            return c.yes ? "$\\checkmark$" : "$\\times$";
        case Cell::Kind::Stat:
            return format_mean_std(c.stat, c.decimals, " $\\pm$ ");
        case Cell::Kind::Text:
            break;
    }
    return latex_escape(c.text);
}

std::string render_markdown(const Table& t) {
    std::vector<std::vector<std::string>> text = {t.md_header};
    for (const auto& row : t.rows) {
        text.emplace_back();
        for (const Cell& c : row) text.back().push_back(md_cell(c));
    }
    std::vector<size_t> width(t.align.size(), 3);
    for (const auto& row : text)
        for (size_t j = 0; j < row.size(); ++j)
            width[j] = std::max(width[j], display_width(row[j]));
    auto pad = [&](const std::string& s, size_t j) {
        const size_t fill = width[j] - display_width(s);
        if (t.align[j] == 'r') return std::string(fill, ' ') + s;
        if (t.align[j] == 'c')
            return std::string(fill / 2, ' ') + s + std::string(fill - fill / 2, ' ');
        return s + std::string(fill, ' ');
    };
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        out += "|";
        for (size_t j = 0; j < text[i].size(); ++j) out += " " + pad(text[i][j], j) + " |";
        out += "\n";
        if (i == 0) {
            out += "|";
            for (size_t j = 0; j < width.size(); ++j) {
                const char a = t.align[j];
                out += (a == 'c' ? ":" : "-") + std::string(width[j], '-') +
                       (a == 'l' ? "-" : ":") + "|";
            }
            out += "\n";
        }
    }
    return out;
}

std::string render_latex(const Table& t) {
    std::string out = "% " + t.title + "\n\\begin{tabular}{" + t.align + "}\n\\toprule\n";
    auto line = [](const std::vector<std::string>& cells) {
        std::string s;
        for (size_t j = 0; j < cells.size(); ++j) s += (j ? " & " : "") + cells[j];
        return s + " \\\\\n";
    };
    out += line(t.tex_header) + "\\midrule\n";
    for (size_t i = 0; i < t.rows.size(); ++i) {
        if (std::find(t.rules.begin(), t.rules.end(), i) != t.rules.end()) out += "\\midrule\n";
        std::vector<std::string> cells;
        for (const Cell& c : t.rows[i]) cells.push_back(tex_cell(c));
        out += line(cells);
    }
    return out + "\\bottomrule\n\\end{tabular}\n";
}

// ---- CSV -----------------------------------------------------------------------------------

std::string csv_line(const std::vector<std::string>& fields) {
    std::string s;
    for (size_t j = 0; j < fields.size(); ++j) s += (j ? "," : "") + csv_field(fields[j]);
    return s + "\r\n";
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s = buf;
    if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);  // "-0.00"
    return s;
}

std::string render_csv(const std::vector<Section>& sections) {
    std::vector<std::string> header = {"table",  "arch", "dataset",  "cut",      "kind", "method",
                                       "source", "axes", "D_r_free", "D_f_free", "n"};
    for (const Metric& m : all_metrics()) {
        header.push_back(std::string(m.csv) + "_mean");
        header.push_back(std::string(m.csv) + "_std");
    }
    std::string out = csv_line(header);
    for (const Section& s : sections)
        for (const Group& g : s.groups) {
            std::vector<std::string> f = {g.table,
                                          g.arch,
                                          g.dataset,
                                          g.cut,
                                          g.kind,
                                          g.method,
                                          g.source,
                                          join_axes(g.axes, ";"),
                                          g.retain_free() ? "yes" : "no",
                                          g.forget_free() ? "yes" : "no",
                                          std::to_string(g.rows.size())};
            for (const Metric& m : all_metrics()) {
                const MeanStd st = g.stat(m);
                f.push_back(st.n ? fixed(st.mean, m.decimals) : "");
                f.push_back(st.n ? fixed(st.std, m.decimals) : "");
            }
            out += csv_line(f);
        }
    return out;
}

// ---- plots ---------------------------------------------------------------------------------

// A^t_f and A^t_r per method (category), one bar series per (metric, source).
bool bars_figure(const Section& s, const std::vector<const Group*>& unlearn, svg::Figure& fig) {
    std::vector<std::string> categories, sources;
    auto category = [&](const Group& g) { return g.method + (s.many_cuts ? " @" + g.cut : ""); };
    for (const Group* g : unlearn) {
        if (std::find(categories.begin(), categories.end(), category(*g)) == categories.end())
            categories.push_back(category(*g));
        if (std::find(sources.begin(), sources.end(), g->source) == sources.end())
            sources.push_back(g->source);
    }
    fig = svg::Figure{"A^t_f and A^t_r per method: " + s.title(), "method",
                      "test accuracy (%, mean \u00b1 std)"};
    fig.y_min = 0;
    fig.y_max = 100;
    // At least ~11 px per bar (up to four bars per method) beside the legend.
    fig.width = std::max(fig.width, 260 + 48 * static_cast<int>(categories.size()));
    const std::vector<std::string> forget_colors = {"#e15759", "#ff9da7", "#b07aa1"};
    const std::vector<std::string> retain_colors = {"#4e79a7", "#a0cbe8", "#76b7b2"};
    for (const char* key : {"A_f_test", "A_r_test"}) {
        const Metric& m = metric(key);
        for (size_t si = 0; si < sources.size(); ++si) {
            std::vector<double> values(categories.size(), NAN), errors(categories.size(), 0);
            bool any = false;
            for (const Group* g : unlearn) {
                if (g->source != sources[si]) continue;
                const MeanStd st = g->stat(m);
                if (st.n == 0) continue;
                const size_t c = std::find(categories.begin(), categories.end(), category(*g)) -
                                 categories.begin();
                values[c] = st.mean;
                errors[c] = st.std;
                any = true;
            }
            if (!any) continue;
            const std::string name =
                std::string(key == std::string("A_f_test") ? "A^t_f" : "A^t_r") + " (" +
                (sources[si].empty() ? "-" : sources[si]) + ")";
            svg::Series& series = fig.add_bars(name, categories, values, errors);
            const auto& colors = key == std::string("A_f_test") ? forget_colors : retain_colors;
            if (si < colors.size()) series.color = colors[si];
        }
    }
    return !fig.series.empty();
}

// Per epoch means over the group's rows: synthetic agreement and real accuracy, in %.
bool curve_figure(const Section& s, const Group& g, svg::Figure& fig) {
    struct Sums {
        double sf = 0, sr = 0, rf = 0, rr = 0;
        int n = 0, nrf = 0, nrr = 0;
    };
    std::map<int, Sums> epochs;
    std::vector<double> sel_x, sel_y;
    for (const ResultRow* r : g.rows) {
        for (const CurvePoint& p : r->curve) {
            Sums& e = epochs[p.epoch];
            e.sf += p.synthetic_forget;
            e.sr += p.synthetic_retain;
            ++e.n;
            if (p.real_forget >= 0) {  // -1: not measured
                e.rf += p.real_forget;
                ++e.nrf;
            }
            if (p.real_retain >= 0) {
                e.rr += p.real_retain;
                ++e.nrr;
            }
            if (p.epoch == r->selected_epoch) {
                sel_x.push_back(p.epoch);
                sel_y.push_back(100 * p.synthetic_forget);
            }
        }
    }
    if (epochs.empty()) return false;
    std::vector<double> x, sf, sr, xf, rf, xr, rr;
    for (const auto& [epoch, e] : epochs) {
        x.push_back(epoch);
        sf.push_back(100 * e.sf / e.n);
        sr.push_back(100 * e.sr / e.n);
        if (e.nrf) {
            xf.push_back(epoch);
            rf.push_back(100 * e.rf / e.nrf);
        }
        if (e.nrr) {
            xr.push_back(epoch);
            rr.push_back(100 * e.rr / e.nrr);
        }
    }
    fig = svg::Figure{g.method + " (" + g.source + (s.many_cuts ? ", cut " + g.cut : "") +
                          "): unlearning curve, " + s.arch + " on " + s.dataset,
                      "epoch", "% (mean over the runs that measured it)"};
    fig.y_min = 0;
    fig.y_max = 100;
    fig.add_line("synthetic forget agreement", x, sf).color = "#e15759";
    fig.add_line("synthetic retain agreement", x, sr).color = "#4e79a7";
    if (!xf.empty()) {
        svg::Series& l = fig.add_line("real forget accuracy", xf, rf);
        l.color = "#e15759";
        l.dashed = true;
    }
    if (!xr.empty()) {
        svg::Series& l = fig.add_line("real retain accuracy", xr, rr);
        l.color = "#4e79a7";
        l.dashed = true;
    }
    if (!sel_x.empty()) fig.add_scatter("selected epoch", sel_x, sel_y).color = "#222222";
    return true;
}

// Accumulates the Markdown, LaTeX and SVG outputs section by section.
struct ReportWriter {
    const ReportFormats& formats;
    FirstSeen methods, cuts;
    std::vector<Section> sections;
    ReportOutput out;
    std::string tex = "% oblivio report: needs \\usepackage{booktabs} and \\usepackage{amssymb}\n";
    std::set<std::string> svg_names;

    ReportWriter(const std::vector<ResultRow>& rows, const ReportFormats& f) : formats(f) {
        std::set<std::string> experiments, shas;
        for (const ResultRow& r : rows) {
            methods.see(r.method);
            cuts.see(r.cut);
            experiments.insert(r.experiment);
            shas.insert(r.git_sha.empty() ? "unknown" : r.git_sha);
            auto it = std::find_if(sections.begin(), sections.end(), [&](const Section& s) {
                return s.table == r.table && s.arch == r.arch && s.dataset == r.dataset;
            });
            if (it == sections.end()) {
                Section section;
                section.table = r.table;
                section.arch = r.arch;
                section.dataset = r.dataset;
                it = sections.insert(sections.end(), std::move(section));
            }
            it->rows.push_back(&r);
        }
        std::string& md = out.markdown;
        md += "# oblivio report\n\n";
        md += (experiments.size() == 1 ? "Experiment " : "Experiments ") + join(experiments) +
              ": " + std::to_string(rows.size()) +
              (rows.size() == 1 ? " result row" : " result rows");
        if (shas.size() == 1)
            md += ", git " + *shas.begin() + ".\n";
        else
            md += " from " + std::to_string(shas.size()) + " different commits (" + join(shas) +
                  ").\n";
        md +=
            "Cells are mean \u00b1 std (population) over forget classes and seeds; n = runs; "
            "\"-\" = not measured. Accuracies on the test split, in %. "
            "D_r-free / D_f-free \u2713: never reads the retain / forget training data.\n";
    }

    static std::string join(const std::set<std::string>& items) {
        std::string s;
        for (const auto& item : items) s += (s.empty() ? "" : ", ") + item;
        return s;
    }

    void table(const Table& t, const std::string& heading) {
        out.markdown += heading + render_markdown(t);
        tex += "\n" + render_latex(t);
    }

    void figure(const svg::Figure& fig, const std::string& stem, const std::string& alt) {
        std::string name = stem + ".svg";
        for (int k = 2; !svg_names.insert(name).second; ++k)
            name = stem + "_" + std::to_string(k) + ".svg";
        out.files.emplace_back(name, fig.to_svg());
        out.markdown += "\n![" + alt + "](" + name + ")\n";
    }

    // One (table, arch, dataset): main table and bars, ablation tables, per-class table, curves.
    void section(Section& s) {
        s.groups = make_groups(s.rows, false, methods, cuts);
        std::set<std::string> section_cuts;  // of unlearning rows (baselines have none)
        for (const Group& g : s.groups)
            if (!g.baseline()) section_cuts.insert(g.cut);
        s.many_cuts = section_cuts.size() > 1;
        const std::string stem = slug(s.table + "_" + s.arch + "_" + s.dataset);

        std::vector<const Group*> main, unlearn;
        std::vector<std::vector<const Group*>> ablations;  // one per set of axis names
        for (const Group& g : s.groups) {
            if (g.axes.empty()) {
                main.push_back(&g);
                if (!g.baseline()) unlearn.push_back(&g);
                continue;
            }
            auto same_axes = [&](const std::vector<const Group*>& a) {
                if (a.front()->axes.size() != g.axes.size()) return false;
                for (size_t i = 0; i < g.axes.size(); ++i)
                    if (a.front()->axes[i].first != g.axes[i].first) return false;
                return true;
            };
            auto it = std::find_if(ablations.begin(), ablations.end(), same_axes);
            if (it == ablations.end()) {
                ablations.emplace_back();
                it = ablations.end() - 1;
            }
            it->push_back(&g);
        }

        out.markdown += "\n## " + s.title() + "\n";
        if (!main.empty()) {
            table(main_table(s, main), "\n");
            svg::Figure fig;
            if (formats.svg && bars_figure(s, unlearn, fig))
                figure(fig, "bars_" + stem, "A^t_f and A^t_r per method");
        }
        for (const auto& groups : ablations)
            table(ablation_table(s, groups),
                  "\n### Ablation over " + axis_names(*groups.front()) + "\n\n");
        std::vector<const ResultRow*> plain;
        for (const ResultRow* r : s.rows)
            if (r->axes.empty()) plain.push_back(r);
        if (!plain.empty())
            table(per_class_table(s, make_groups(plain, true, methods, cuts)),
                  "\n### Per forget class\n\n");
        if (!formats.svg) return;
        bool heading = false;
        for (const Group* g : unlearn) {
            svg::Figure fig;
            if (!curve_figure(s, *g, fig)) continue;
            if (!heading) out.markdown += "\n### Unlearning curves\n";
            heading = true;
            figure(fig,
                   "curve_" + stem + "_" + slug(g->method + "_" + g->source) +
                       (s.many_cuts ? "_" + slug(g->cut) : ""),
                   g->method + " (" + g->source + ")");
        }
    }

    ReportOutput finish() {
        if (formats.md) out.files.insert(out.files.begin(), {"report.md", out.markdown});
        if (formats.csv) out.files.emplace_back("report.csv", render_csv(sections));
        if (formats.tex) out.files.emplace_back("report.tex", tex);
        return std::move(out);
    }
};

}  // namespace

// ---- public helpers ------------------------------------------------------------------------

MeanStd mean_std(const std::vector<double>& values) {
    MeanStd s;
    s.n = static_cast<int>(values.size());
    if (s.n == 0) return s;
    for (double v : values) s.mean += v;
    s.mean /= s.n;
    for (double v : values) s.std += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(s.std / s.n);
    return s;
}

std::string format_mean_std(const MeanStd& s, int decimals, const std::string& pm) {
    if (s.n == 0) return "-";
    return fixed(s.mean, decimals) + pm + fixed(s.std, decimals);
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string latex_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
            case '%':
            case '$':
            case '#':
            case '_':
            case '{':
            case '}':
                out += '\\';
                out += c;
                break;
            case '~':
                out += "\\textasciitilde{}";
                break;
            case '^':
                out += "\\textasciicircum{}";
                break;
            case '\\':
                out += "\\textbackslash{}";
                break;
            default:
                out += c;
        }
    }
    return out;
}

ReportFormats parse_report_formats(const std::string& list) {
    ReportFormats f{false, false, false, false};
    size_t start = 0;
    while (true) {
        const size_t comma = list.find(',', start);
        const std::string item = list.substr(start, comma - start);
        if (item == "md")
            f.md = true;
        else if (item == "csv")
            f.csv = true;
        else if (item == "tex")
            f.tex = true;
        else if (item == "svg")
            f.svg = true;
        else
            OBL_THROW("--format: unknown format '", item, "' (use md, csv, tex, svg)");
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return f;
}

ReportOutput build_report(const std::vector<ResultRow>& rows, const ReportFormats& formats) {
    OBL_CHECK(!rows.empty(), "no result rows to report");
    ReportWriter w(rows, formats);
    for (Section& s : w.sections) w.section(s);
    return w.finish();
}

}  // namespace obl
