// A tiny dependency-free SVG plot writer for reports: one Figure = title, axis labels, and series
// drawn as lines, scatter points or grouped bars, with ticks, grid lines and a legend.
//
//   svg::Figure fig{"Unlearning curve", "epoch", "agreement (%)"};
//   fig.add_line("synthetic forget", {1, 2, 3}, {80, 20, 5});
//   fig.add_scatter("selected epoch", {3}, {5});
//   write_file_atomic("curve.svg", ...fig.to_svg()...);
//
// Numeric figures (lines, scatter) put x and y on linear axes whose range covers the data (or
// the x_min/x_max/y_min/y_max given; NaN = from the data), with "nice" ticks (1, 2, 5 x 10^k).
// Bar figures put categories along x: each add_bars() series draws one bar per category inside
// the category's group, with an optional +-error whisker. A figure holds either bars or
// numeric series, not both. Text is XML-escaped; the output has a fixed size (width x height
// pixels) and no scripts, fonts or external references.
#pragma once

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace obl::svg {

struct Series {
    enum class Kind { Line, Scatter, Bars };
    Kind kind = Kind::Line;
    std::string name;            // legend entry
    std::vector<double> xs, ys;  // Line / Scatter: points; Bars: ys = one value per category
    std::vector<std::string> categories;  // Bars only
    std::vector<double> errors;           // Bars only: +- whisker per category (empty = none)
    std::string color;                    // "" = the next palette colour
    bool dashed = false;                  // Line only
    bool hollow = false;                  // Scatter only: open rings instead of filled dots
    double radius = 4;                    // Scatter only: dot radius in pixels
};

struct Figure {
    static constexpr double kAuto = std::numeric_limits<double>::quiet_NaN();

    // Figure{"title", "x label", "y label"}; the other fields keep their defaults.
    explicit Figure(std::string title_text = "", std::string x_text = "", std::string y_text = "")
        : title(std::move(title_text)), x_label(std::move(x_text)), y_label(std::move(y_text)) {}

    std::string title, x_label, y_label;
    int width = 720, height = 420;
    double x_min = kAuto, x_max = kAuto, y_min = kAuto, y_max = kAuto;
    std::vector<Series> series;

    // Points must be finite and xs, ys the same length (obl::Error otherwise).
    Series& add_line(const std::string& name, const std::vector<double>& xs,
                     const std::vector<double>& ys);
    Series& add_scatter(const std::string& name, const std::vector<double>& xs,
                        const std::vector<double>& ys);
    // One value (and optionally one error) per category; a NaN value draws no bar. Categories
    // of all bar series are merged in order of first appearance.
    Series& add_bars(const std::string& name, const std::vector<std::string>& categories,
                     const std::vector<double>& values, const std::vector<double>& errors = {});

    // The whole SVG document. Throws obl::Error when the figure has no series or mixes bars with
    // numeric series.
    std::string to_svg() const;
};

// The default colours, in order (Tableau 10: distinguishable and colour-blind friendly enough).
const std::vector<std::string>& palette();

// Text with &, <, >, " and ' replaced by XML entities.
std::string escape(const std::string& text);

// Up to about `target` round tick values covering [lo, hi] (1, 2, 5 x 10^k steps).
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

}  // namespace obl::svg
