// The SVG plot writer (experiments/svg.h): layout, axes, series and legend as plain SVG 1.1.
#include "experiments/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "kernels/common/check.h"

namespace obl::svg {

namespace {

constexpr const char* kFont = "font-family=\"Helvetica, Arial, sans-serif\"";
constexpr const char* kAxisColor = "#333333";
constexpr const char* kGridColor = "#e6e6e6";

// Coordinates with two decimals: exact enough for pixels, short, and never "nan" (callers only
// pass finite values).
std::string px(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

std::string tick_label(double v, double step) {
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-9 ? 0.0 : v);
    return buf;
}

// Width in pixels of `text` at `size` px (an average glyph is ~0.55 em in Helvetica); counts
// UTF-8 characters, not bytes.
double text_width(const std::string& text, double size) {
    int chars = 0;
    for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
    return chars * size * 0.55;
}

std::string text(double x, double y, const std::string& s, const std::string& attrs) {
    return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" " + attrs + ">" + escape(s) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& attrs) {
    return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" +
           px(y2) + "\" " + attrs + "/>\n";
}

void check_points(const std::string& name, const std::vector<double>& xs,
                  const std::vector<double>& ys) {
    OBL_CHECK(xs.size() == ys.size(), "svg series '", name, "': ", xs.size(), " x values but ",
              ys.size(), " y values");
    for (size_t i = 0; i < xs.size(); ++i)
        OBL_CHECK(std::isfinite(xs[i]) && std::isfinite(ys[i]), "svg series '", name, "': point ",
                  i, " (", xs[i], ", ", ys[i], ") is not finite");
}

// A linear axis: the data range widened to round ticks, unless fixed by the caller.
struct Axis {
    double lo = 0, hi = 1;
    std::vector<double> ticks;

    Axis(double data_lo, double data_hi, double fixed_lo, double fixed_hi) {
        if (!std::isnan(fixed_lo)) data_lo = fixed_lo;
        if (!std::isnan(fixed_hi)) data_hi = fixed_hi;
        if (!(data_hi > data_lo)) {  // one value (or none): give it some room
            const double pad = data_lo == 0 ? 1 : std::abs(data_lo) * 0.1;
            data_lo -= pad;
            data_hi += pad;
        }
        const std::vector<double> all = nice_ticks(data_lo, data_hi);
        lo = std::isnan(fixed_lo) ? std::min(data_lo, all.front()) : data_lo;
        hi = std::isnan(fixed_hi) ? std::max(data_hi, all.back()) : data_hi;
        const double eps = (hi - lo) * 1e-9;
        for (double t : all)
            if (t >= lo - eps && t <= hi + eps) ticks.push_back(t);
    }
    double step() const { return ticks.size() > 1 ? ticks[1] - ticks[0] : hi - lo; }
    // Maps a value to the pixel interval [p0, p1].
    double map(double v, double p0, double p1) const {
        return p0 + (v - lo) / (hi - lo) * (p1 - p0);
    }
};

}  // namespace

const std::vector<std::string>& palette() {
    static const std::vector<std::string> colors = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                                    "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                                    "#9c755f", "#bab0ac"};
    return colors;
}

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
    OBL_CHECK(std::isfinite(lo) && std::isfinite(hi) && hi > lo && target >= 2,
              "nice_ticks: bad range [", lo, ", ", hi, "] or target ", target);
    const double raw = (hi - lo) / (target - 1);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = 10 * magnitude;
    for (double m : {1.0, 2.0, 5.0})
        if (m * magnitude >= raw * (1 - 1e-9)) {
            step = m * magnitude;
            break;
        }
    const double first = std::floor(lo / step + 1e-9);
    const double last = std::ceil(hi / step - 1e-9);
    std::vector<double> ticks;
    for (double k = first; k <= last; ++k) ticks.push_back(k * step);
    return ticks;
}

Series& Figure::add_line(const std::string& name, const std::vector<double>& xs,
                         const std::vector<double>& ys) {
    check_points(name, xs, ys);
    series.push_back(Series{Series::Kind::Line, name, xs, ys, {}, {}, "", false, false, 4});
    return series.back();
}

Series& Figure::add_scatter(const std::string& name, const std::vector<double>& xs,
                            const std::vector<double>& ys) {
    check_points(name, xs, ys);
    series.push_back(Series{Series::Kind::Scatter, name, xs, ys, {}, {}, "", false, false, 4});
    return series.back();
}

Series& Figure::add_bars(const std::string& name, const std::vector<std::string>& categories,
                         const std::vector<double>& values, const std::vector<double>& errors) {
    OBL_CHECK(categories.size() == values.size(), "svg bars '", name, "': ", categories.size(),
              " categories but ", values.size(), " values");
    OBL_CHECK(errors.empty() || errors.size() == values.size(), "svg bars '", name,
              "': ", errors.size(), " errors for ", values.size(), " values");
    for (size_t i = 0; i < values.size(); ++i) {
        OBL_CHECK(!std::isinf(values[i]), "svg bars '", name, "': value ", i, " is infinite");
        OBL_CHECK(errors.empty() || std::isfinite(errors[i]), "svg bars '", name, "': error ", i,
                  " is not finite");
    }
    series.push_back(
        Series{Series::Kind::Bars, name, {}, values, categories, errors, "", false, false, 4});
    return series.back();
}

std::string Figure::to_svg() const {
    OBL_CHECK(!series.empty(), "svg figure '", title, "' has no series");
    const bool bars = series.front().kind == Series::Kind::Bars;
    for (const Series& s : series)
        OBL_CHECK((s.kind == Series::Kind::Bars) == bars, "svg figure '", title,
                  "' mixes bars with line/scatter series");
    auto color = [&](size_t i) {
        return series[i].color.empty() ? palette()[i % palette().size()] : series[i].color;
    };

    // Categories (bars) in order of first appearance, and the data ranges.
    std::vector<std::string> categories;
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (const Series& s : series) {
        for (size_t i = 0; i < s.ys.size(); ++i) {
            if (bars) {
                if (std::find(categories.begin(), categories.end(), s.categories[i]) ==
                    categories.end())
                    categories.push_back(s.categories[i]);
                if (std::isnan(s.ys[i])) continue;
                const double e = s.errors.empty() ? 0 : std::abs(s.errors[i]);
                y_lo = std::min({y_lo, 0.0, s.ys[i] - e});
                y_hi = std::max({y_hi, 0.0, s.ys[i] + e});
            } else {
                x_lo = std::min(x_lo, s.xs[i]);
                x_hi = std::max(x_hi, s.xs[i]);
                y_lo = std::min(y_lo, s.ys[i]);
                y_hi = std::max(y_hi, s.ys[i]);
            }
        }
    }
    if (!std::isfinite(y_lo)) y_lo = y_hi = 0;  // no drawable point: an empty frame
    if (!std::isfinite(x_lo)) x_lo = x_hi = 0;
    const Axis y_axis(y_lo, y_hi, y_min, y_max);
    const Axis x_axis(x_lo, x_hi, x_min, x_max);

    // Layout: legend on the right, title on top, tick labels and x label below.
    double legend_w = 0;
    for (const Series& s : series) legend_w = std::max(legend_w, text_width(s.name, 12));
    legend_w = std::min(legend_w, width * 0.35);  // longer names run past the edge
    double left = 72, bottom = 58;
    const double top = title.empty() ? 20 : 46, right = legend_w + 52;
    const double plot_w0 = width - left - right;
    bool rotate = false;
    if (bars && !categories.empty()) {
        double longest = 0;
        for (const auto& c : categories) longest = std::max(longest, text_width(c, 11));
        const double band0 = plot_w0 / categories.size();
        rotate = longest > band0 - 6;
        // A label rotated by -35 degrees and ending at its bar reaches cos 35 = 0.82 of its
        // length to the left and sin 35 = 0.57 of it down: the first one must stay in the figure.
        if (rotate) {
            bottom += std::min(longest * 0.6, 110.0);
            left = std::max(left, std::min(0.82 * longest - 0.5 * band0 + 8, 0.3 * width));
        }
    }
    const double x0 = left, x1 = width - right, y0 = top, y1 = height - bottom;
    OBL_CHECK(x1 - x0 > 40 && y1 - y0 > 40, "svg figure '", title, "': ", width, "x", height,
              " px leaves no room for the plot");
    auto ymap = [&](double v) { return y_axis.map(v, y1, y0); };
    auto xmap = [&](double v) { return x_axis.map(v, x0, x1); };

    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
           "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) +
           " " + std::to_string(height) + "\">\n";
    out += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(width) + "\" height=\"" +
           std::to_string(height) + "\" fill=\"#ffffff\"/>\n";
    // The clip path's id differs between figures, so several SVGs can be inlined in one page.
    uint32_t hash = 2166136261u;  // FNV-1a of what determines the plot area
    for (char c : title + x_label + y_label + std::to_string(width) + std::to_string(height))
        hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
    const std::string clip = "plot" + std::to_string(hash);
    out += "<defs><clipPath id=\"" + clip + "\"><rect x=\"" + px(x0) + "\" y=\"" + px(y0) +
           "\" width=\"" + px(x1 - x0) + "\" height=\"" + px(y1 - y0) + "\"/></clipPath></defs>\n";
    if (!title.empty())
        out += text(width / 2.0, 28, title,
                    std::string(kFont) +
                        " font-size=\"15\" font-weight=\"bold\" "
                        "text-anchor=\"middle\" fill=\"#222222\"");

    // Grid and y ticks.
    const std::string small = std::string(kFont) + " font-size=\"11\" fill=\"" + kAxisColor + "\"";
    for (double t : y_axis.ticks) {
        const double y = ymap(t);
        out += line(x0, y, x1, y, std::string("stroke=\"") + kGridColor + "\" stroke-width=\"1\"");
        out += line(x0 - 5, y, x0, y, std::string("stroke=\"") + kAxisColor + "\"");
        out += text(x0 - 8, y + 4, tick_label(t, y_axis.step()), small + " text-anchor=\"end\"");
    }
    // x ticks: numbers, or one label per category.
    const double band = categories.empty() ? 0 : (x1 - x0) / categories.size();
    if (bars) {
        for (size_t c = 0; c < categories.size(); ++c) {
            const double x = x0 + band * (c + 0.5);
            if (rotate)
                out += text(x, y1 + 16, categories[c],
                            small + " text-anchor=\"end\" transform=\"rotate(-35 " + px(x) + " " +
                                px(y1 + 16) + ")\"");
            else
                out += text(x, y1 + 18, categories[c], small + " text-anchor=\"middle\"");
        }
    } else {
        for (double t : x_axis.ticks) {
            const double x = xmap(t);
            out += line(x, y1, x, y1 + 5, std::string("stroke=\"") + kAxisColor + "\"");
            out +=
                text(x, y1 + 18, tick_label(t, x_axis.step()), small + " text-anchor=\"middle\"");
        }
    }
    // Axes lines (y = 0 line for bars that go negative comes from the grid).
    out += line(x0, y1, x1, y1, std::string("stroke=\"") + kAxisColor + "\"");
    out += line(x0, y0, x0, y1, std::string("stroke=\"") + kAxisColor + "\"");
    const std::string label = std::string(kFont) + " font-size=\"13\" fill=\"#222222\"";
    if (!x_label.empty())
        out += text((x0 + x1) / 2, height - 14, x_label, label + " text-anchor=\"middle\"");
    if (!y_label.empty())
        out += text(18, (y0 + y1) / 2, y_label,
                    label + " text-anchor=\"middle\" transform=\"rotate(-90 18 " +
                        px((y0 + y1) / 2) + ")\"");

    // The series.
    size_t bar_series = 0, bar_index = 0;
    for (const Series& s : series) bar_series += s.kind == Series::Kind::Bars;
    out += "<g clip-path=\"url(#" + clip + ")\">\n";
    for (size_t i = 0; i < series.size(); ++i) {
        const Series& s = series[i];
        const std::string col = escape(color(i));
        if (s.kind == Series::Kind::Bars) {
            const double group = band * 0.8, w = group / bar_series;
            for (size_t k = 0; k < s.ys.size(); ++k) {
                if (std::isnan(s.ys[k])) continue;
                const size_t c = std::find(categories.begin(), categories.end(), s.categories[k]) -
                                 categories.begin();
                const double bx = x0 + band * c + (band - group) / 2 + w * bar_index;
                const double top_y = ymap(std::max(s.ys[k], 0.0));
                const double bottom_y = ymap(std::min(s.ys[k], 0.0));
                out += "<rect x=\"" + px(bx + 1) + "\" y=\"" + px(top_y) + "\" width=\"" +
                       px(std::max(w - 2, 1.0)) + "\" height=\"" + px(bottom_y - top_y) +
                       "\" fill=\"" + col + "\"/>\n";
                if (!s.errors.empty() && s.errors[k] > 0) {
                    const double cx = bx + w / 2, e = std::abs(s.errors[k]);
                    const double ya = ymap(s.ys[k] - e), yb = ymap(s.ys[k] + e);
                    const std::string st = "stroke=\"#222222\" stroke-width=\"1\"";
                    out += line(cx, ya, cx, yb, st);
                    out += line(cx - w / 5, ya, cx + w / 5, ya, st);
                    out += line(cx - w / 5, yb, cx + w / 5, yb, st);
                }
            }
            ++bar_index;
        } else if (s.kind == Series::Kind::Line) {
            std::string points;
            for (size_t k = 0; k < s.xs.size(); ++k)
                points += (k ? " " : "") + px(xmap(s.xs[k])) + "," + px(ymap(s.ys[k]));
            out += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + col +
                   "\" stroke-width=\"2\"" + (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
            if (s.xs.size() <= 60)
                for (size_t k = 0; k < s.xs.size(); ++k)
                    out += "<circle cx=\"" + px(xmap(s.xs[k])) + "\" cy=\"" + px(ymap(s.ys[k])) +
                           "\" r=\"2.5\" fill=\"" + col + "\"/>\n";
        } else {
            const std::string look =
                s.hollow ? "fill=\"none\" stroke=\"" + col + "\" stroke-width=\"1.2\""
                         : "fill=\"" + col +
                               "\" fill-opacity=\"0.85\" stroke=\"#ffffff\" stroke-width=\"1\"";
            for (size_t k = 0; k < s.xs.size(); ++k)
                out += "<circle cx=\"" + px(xmap(s.xs[k])) + "\" cy=\"" + px(ymap(s.ys[k])) +
                       "\" r=\"" + px(s.radius) + "\" " + look + "/>\n";
        }
    }
    out += "</g>\n";

    // Legend.
    double ly = y0 + 8;
    const double lx = x1 + 16;
    for (size_t i = 0; i < series.size(); ++i, ly += 18) {
        const Series& s = series[i];
        const std::string col = escape(color(i));
        if (s.kind == Series::Kind::Bars)
            out += "<rect x=\"" + px(lx) + "\" y=\"" + px(ly - 5) +
                   "\" width=\"14\" height=\"10\" fill=\"" + col + "\"/>\n";
        else if (s.kind == Series::Kind::Line)
            out += line(lx, ly, lx + 14, ly,
                        "stroke=\"" + col + "\" stroke-width=\"2\"" +
                            (s.dashed ? " stroke-dasharray=\"4 2\"" : ""));
        else
            out += "<circle cx=\"" + px(lx + 7) + "\" cy=\"" + px(ly) + "\" r=\"4\" " +
                   (s.hollow ? "fill=\"none\" stroke=\"" + col + "\" stroke-width=\"1.5\""
                             : "fill=\"" + col + "\"") +
                   "/>\n";
        out += text(lx + 20, ly + 4, s.name,
                    std::string(kFont) + " font-size=\"12\" fill=\"#222222\"");
    }
    return out + "</svg>\n";
}

}  // namespace obl::svg
