// The experiment results store (experiments/results.h): ResultRow <-> one JSON line, and the
// append-only, crash-safe results.jsonl file.
#include "experiments/results.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "kernels/common/check.h"

namespace obl {

namespace {

// ---- writing -------------------------------------------------------------------------------

// %.17g round-trips every double; JSON has no NaN or infinity, so they are refused here rather
// than written as a line no reader accepts.
std::string number(double v, const std::string& field) {
    OBL_CHECK(std::isfinite(v), "result field '", field, "' is ", v,
              ": JSON cannot store it (leave a metric out when it was not computed)");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::string string_object(const std::vector<std::pair<std::string, std::string>>& kv,
                          const std::string& field) {
    std::set<std::string> seen;
    std::string out = "{";
    for (const auto& [key, value] : kv) {
        OBL_CHECK(seen.insert(key).second, "result field '", field, "' has the key '", key,
                  "' twice");
        out += (out.size() > 1 ? "," : "") + json::quote(key) + ":" + json::quote(value);
    }
    return out + "}";
}

std::string number_object(const std::map<std::string, double>& kv, const std::string& field) {
    std::string out = "{";
    for (const auto& [key, value] : kv)
        out +=
            (out.size() > 1 ? "," : "") + json::quote(key) + ":" + number(value, field + "." + key);
    return out + "}";
}

// ---- reading -------------------------------------------------------------------------------

// Field access on one JSON object with error messages that say where ("file:line: field 'x'").
class Fields {
   public:
    Fields(const json::Value& v, std::string where, std::string prefix = "")
        : v_(v), where_(std::move(where)), prefix_(std::move(prefix)) {
        OBL_CHECK(v.kind == json::Value::Kind::Object, where_, ": ",
                  prefix_.empty() ? "a result row" : "field '" + prefix_ + "'",
                  " must be a JSON object");
    }

    const json::Value& get(const std::string& key, json::Value::Kind kind, const char* type) {
        const json::Value* f = v_.find(key);
        OBL_CHECK(f != nullptr, where_, ": missing field '", name(key), "'");
        OBL_CHECK(f->kind == kind, where_, ": field '", name(key), "' must be ", type);
        used_.insert(key);
        return *f;
    }
    std::string string(const std::string& key) {
        return get(key, json::Value::Kind::String, "a string").text;
    }
    int64_t integer(const std::string& key) {
        return get(key, json::Value::Kind::Number, "an integer")
            .as_int64(where_ + ": field '" + name(key) + "'");
    }
    double real(const std::string& key) {
        return to_double(get(key, json::Value::Kind::Number, "a number"), name(key));
    }
    double to_double(const json::Value& v, const std::string& field) const {
        OBL_CHECK(v.kind == json::Value::Kind::Number, where_, ": field '", field,
                  "' must be a number");
        char* end = nullptr;
        const double d = std::strtod(v.text.c_str(), &end);
        OBL_CHECK(end && *end == '\0' && std::isfinite(d), where_, ": field '", field,
                  "' = ", v.text, " is not a finite double");
        return d;
    }
    // Every key must have been read: a misspelt or unknown field is an error, not ignored.
    void check_all_used() const {
        for (const auto& f : v_.fields)
            OBL_CHECK(used_.count(f.first), where_, ": unknown field '", name(f.first), "'");
    }
    std::string name(const std::string& key) const {
        return prefix_.empty() ? key : prefix_ + "." + key;
    }
    const std::string& where() const { return where_; }

   private:
    const json::Value& v_;
    std::string where_, prefix_;
    std::set<std::string> used_;
};

std::vector<std::pair<std::string, std::string>> read_string_object(Fields& f,
                                                                    const std::string& key) {
    const json::Value& obj = f.get(key, json::Value::Kind::Object, "an object");
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : obj.fields) {
        OBL_CHECK(v.kind == json::Value::Kind::String, f.where(), ": field '", key, ".", k,
                  "' must be a string");
        out.emplace_back(k, v.text);
    }
    return out;
}

std::map<std::string, double> read_number_object(Fields& f, const std::string& key) {
    const json::Value& obj = f.get(key, json::Value::Kind::Object, "an object");
    std::map<std::string, double> out;
    for (const auto& [k, v] : obj.fields) out[k] = f.to_double(v, key + "." + k);
    return out;
}

}  // namespace

// ---- ResultRow -----------------------------------------------------------------------------

std::string ResultRow::to_json() const {
    std::string s = "{";
    auto field = [&s](const char* key, const std::string& json_value) {
        s += (s.size() > 1 ? "," : "") + json::quote(key) + ":" + json_value;
    };
    field("experiment", json::quote(experiment));
    field("row_id", json::quote(row_id));
    field("table", json::quote(table));
    field("arch", json::quote(arch));
    field("dataset", json::quote(dataset));
    field("kind", json::quote(kind));
    field("method", json::quote(method));
    field("source", json::quote(source));
    field("cut", json::quote(cut));
    std::string list = "[";
    for (size_t i = 0; i < classes.size(); ++i) list += (i ? "," : "") + std::to_string(classes[i]);
    field("classes", list + "]");
    field("seed", std::to_string(seed));
    field("git_sha", json::quote(git_sha));
    field("config_hash", json::quote(config_hash));
    field("config", string_object(config, "config"));
    field("axes", string_object(axes, "axes"));
    field("metrics", number_object(metrics, "metrics"));
    field("timing", number_object(timing, "timing"));
    field("stop_reason", json::quote(stop_reason));
    field("selected_epoch", std::to_string(selected_epoch));
    std::string points = "[";
    for (size_t i = 0; i < curve.size(); ++i) {
        const CurvePoint& p = curve[i];
        const std::string at = "curve[" + std::to_string(i) + "].";
        points += std::string(i ? "," : "") + "{\"epoch\":" + std::to_string(p.epoch) +
                  ",\"synthetic_forget\":" + number(p.synthetic_forget, at + "synthetic_forget") +
                  ",\"synthetic_retain\":" + number(p.synthetic_retain, at + "synthetic_retain") +
                  ",\"margin\":" + number(p.margin, at + "margin") +
                  ",\"real_forget\":" + number(p.real_forget, at + "real_forget") +
                  ",\"real_retain\":" + number(p.real_retain, at + "real_retain") + "}";
    }
    field("curve", points + "]");
    return s + "}";
}

ResultRow ResultRow::from_json(const json::Value& v, const std::string& where) {
    Fields f(v, where);
    ResultRow r;
    r.experiment = f.string("experiment");
    r.row_id = f.string("row_id");
    OBL_CHECK(!r.row_id.empty(), where, ": field 'row_id' is empty");
    r.table = f.string("table");
    r.arch = f.string("arch");
    r.dataset = f.string("dataset");
    r.kind = f.string("kind");
    OBL_CHECK(r.kind == "original" || r.kind == "oracle" || r.kind == "unlearn", where,
              ": field 'kind' is '", r.kind, "', expected original, oracle or unlearn");
    r.method = f.string("method");
    r.source = f.string("source");
    r.cut = f.string("cut");
    for (const json::Value& c : f.get("classes", json::Value::Kind::Array, "an array").items) {
        const int64_t k = c.as_int64(where + ": field 'classes'");
        OBL_CHECK(k >= 0 && k < (int64_t(1) << 30), where, ": field 'classes' has ", k,
                  ", not a class index");
        r.classes.push_back(static_cast<int>(k));
    }
    r.seed = f.integer("seed");
    r.git_sha = f.string("git_sha");
    r.config_hash = f.string("config_hash");
    r.config = read_string_object(f, "config");
    r.axes = read_string_object(f, "axes");
    r.metrics = read_number_object(f, "metrics");
    r.timing = read_number_object(f, "timing");
    r.stop_reason = f.string("stop_reason");
    r.selected_epoch = static_cast<int>(f.integer("selected_epoch"));
    const auto& points = f.get("curve", json::Value::Kind::Array, "an array").items;
    for (size_t i = 0; i < points.size(); ++i) {
        Fields p(points[i], where, "curve[" + std::to_string(i) + "]");
        CurvePoint c;
        c.epoch = static_cast<int>(p.integer("epoch"));
        c.synthetic_forget = p.real("synthetic_forget");
        c.synthetic_retain = p.real("synthetic_retain");
        c.margin = p.real("margin");
        c.real_forget = p.real("real_forget");
        c.real_retain = p.real("real_retain");
        p.check_all_used();
        r.curve.push_back(c);
    }
    f.check_all_used();
    return r;
}

// ---- ResultsFile ---------------------------------------------------------------------------

ResultsFile::ResultsFile(std::string path) : path_(std::move(path)) {
    OBL_CHECK(!path_.empty(), "results file path is empty");
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) return;  // created by the first append
    std::ifstream in(path_, std::ios::binary);
    OBL_CHECK(in.good(), path_, ": cannot open the results file: ", std::strerror(errno));
    std::ostringstream buf;
    buf << in.rdbuf();
    const std::string text = buf.str();
    OBL_CHECK(!in.bad(), path_, ": read error");

    size_t start = 0;
    for (int line = 1;; ++line) {
        const size_t end = text.find('\n', start);
        if (end == std::string::npos) break;  // the rest (if any) is a torn write: ignored
        const std::string where = path_ + ":" + std::to_string(line);
        const json::Value v = json::parse(text.data() + start, end - start, where);
        ResultRow row = ResultRow::from_json(v, where);
        OBL_CHECK(ids_.insert(row.row_id).second, where, ": row_id '", row.row_id,
                  "' appears twice in the file");
        rows_.push_back(std::move(row));
        start = end + 1;
    }
    valid_bytes_ = static_cast<int64_t>(start);
}

bool ResultsFile::has(const std::string& row_id) const { return ids_.count(row_id) > 0; }

void ResultsFile::append(const ResultRow& row) {
    OBL_CHECK(!row.row_id.empty(), path_, ": cannot append a row without a row_id");
    OBL_CHECK(!has(row.row_id), path_, ": row_id '", row.row_id, "' is already in the file");
    const std::string line = row.to_json() + "\n";

    const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(parent, ec);
        OBL_CHECK(!ec, path_, ": cannot create the directory ", parent.string(), ": ",
                  ec.message());
    }
    struct stat st {};
    const bool existed = ::stat(path_.c_str(), &st) == 0;
    const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    OBL_CHECK(fd >= 0, path_, ": cannot open for append: ", std::strerror(errno));
    auto fail = [&](const std::string& what) {
        const int err = errno;
        ::close(fd);
        OBL_THROW(path_, ": ", what, err ? std::string(": ") + std::strerror(err) : "");
    };

    // The file must be what the constructor read, plus at most a torn (newline-free) tail, which
    // is cut off here so the new row starts on a line of its own.
    if (::fstat(fd, &st) != 0) fail("fstat failed");
    if (st.st_size != valid_bytes_) {
        std::string tail;
        if (st.st_size > valid_bytes_) {
            std::ifstream in(path_, std::ios::binary);
            in.seekg(valid_bytes_);
            tail.assign(std::istreambuf_iterator<char>(in), {});
        }
        errno = 0;
        if (st.st_size < valid_bytes_ || tail.find('\n') != std::string::npos)
            fail("the file changed since it was read (another writer?); rerun to pick it up");
        if (::ftruncate(fd, valid_bytes_) != 0) fail("cannot cut off the torn last line");
    }

    // One write() of the whole line: with O_APPEND it lands at the end in one piece, or (killed
    // midway) leaves a torn tail without '\n' that readers ignore.
    const ssize_t w = ::write(fd, line.data(), line.size());
    if (w != static_cast<ssize_t>(line.size())) {
        if (w >= 0) {
            if (::ftruncate(fd, valid_bytes_) != 0) {
            }  // best effort: a reader ignores the torn tail anyway
            errno = ENOSPC;
        }
        fail("append of " + std::to_string(line.size()) + " bytes failed");
    }
    if (::fsync(fd) != 0) fail("fsync failed");
    if (::close(fd) != 0) OBL_THROW(path_, ": close failed: ", std::strerror(errno));
    if (!existed) {  // make the new directory entry durable too
        const int dir = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_CLOEXEC);
        if (dir >= 0) {
            if (::fsync(dir) != 0) {
            }  // best effort: some file systems refuse fsync on a directory
            ::close(dir);
        }
    }
    rows_.push_back(row);
    ids_.insert(row.row_id);
    valid_bytes_ += static_cast<int64_t>(line.size());
}

std::string build_git_sha() {
#ifdef OBL_GIT_SHA
    return OBL_GIT_SHA;
#else
    return "unknown";
#endif
}

}  // namespace obl
