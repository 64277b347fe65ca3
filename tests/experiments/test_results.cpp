// Tests of the experiment results store (experiments/results.h): exact JSON round trip, strict
// parsing with file:line errors, torn-write recovery, duplicate ids, durability across readers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "experiments/results.h"
#include "kernels/common/check.h"

namespace obl {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
struct ScratchDir {
    fs::path path;
    explicit ScratchDir(const std::string& name)
        : path(fs::temp_directory_path() /
               ("obl_results_" + name + "_" + std::to_string(::getpid()))) {
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

void write_all(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

// The message of the obl::Error `f` throws ("no error" when it does not).
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

ResultRow sample_row(const std::string& id) {
    ResultRow r;
    r.experiment = "exp_a";
    r.row_id = id;
    r.table = "main";
    r.arch = "resnet18";
    r.dataset = "cifar10";
    r.kind = "unlearn";
    r.method = "neg_grad";
    r.source = "synthetic";
    r.cut = "pre_logits";
    r.classes = {3, 5};
    r.seed = 1234567890123;
    r.git_sha = "0123abcd";
    r.config_hash = "h42";
    r.config = {{"lr", "0.01"}, {"epochs", "5"}};
    r.axes = {{"samples_per_class", "500"}, {"dist", "laplace \"q\"\n\u00e9"}};
    r.metrics = {{"A_f_test", 0.1},
                 {"A_r_test", 1.0 / 3},
                 {"AUS", 0.12345678901234568},
                 {"JS_oracle", 1e-300}};
    r.timing = {{"total_s", 12.5}, {"training_s", 7.0 / 9}};
    r.stop_reason = "forgotten at epoch 2";
    r.selected_epoch = 2;
    r.curve = {{1, 0.9, 0.99, -0.5, -1, -1}, {2, 0.01, 0.98, 2.25, 0.02, 0.951}};
    return r;
}

void expect_same(const ResultRow& a, const ResultRow& b) {
    EXPECT_EQ(a.experiment, b.experiment);
    EXPECT_EQ(a.row_id, b.row_id);
    EXPECT_EQ(a.table, b.table);
    EXPECT_EQ(a.arch, b.arch);
    EXPECT_EQ(a.dataset, b.dataset);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(a.source, b.source);
    EXPECT_EQ(a.cut, b.cut);
    EXPECT_EQ(a.classes, b.classes);
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_EQ(a.git_sha, b.git_sha);
    EXPECT_EQ(a.config_hash, b.config_hash);
    EXPECT_EQ(a.config, b.config);
    EXPECT_EQ(a.axes, b.axes);
    EXPECT_EQ(a.metrics, b.metrics);  // exact: %.17g round-trips doubles
    EXPECT_EQ(a.timing, b.timing);
    EXPECT_EQ(a.stop_reason, b.stop_reason);
    EXPECT_EQ(a.selected_epoch, b.selected_epoch);
    ASSERT_EQ(a.curve.size(), b.curve.size());
    for (size_t i = 0; i < a.curve.size(); ++i) {
        EXPECT_EQ(a.curve[i].epoch, b.curve[i].epoch);
        EXPECT_EQ(a.curve[i].synthetic_forget, b.curve[i].synthetic_forget);
        EXPECT_EQ(a.curve[i].synthetic_retain, b.curve[i].synthetic_retain);
        EXPECT_EQ(a.curve[i].margin, b.curve[i].margin);
        EXPECT_EQ(a.curve[i].real_forget, b.curve[i].real_forget);
        EXPECT_EQ(a.curve[i].real_retain, b.curve[i].real_retain);
    }
}

ResultRow parse_row(const std::string& line, const std::string& where = "t.jsonl:1") {
    return ResultRow::from_json(json::parse(line.data(), line.size(), where), where);
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
}

TEST(ResultRow, JsonRoundTripIsExact) {
    const ResultRow row = sample_row("r1");
    const std::string line = row.to_json();
    EXPECT_EQ(line.find('\n'), std::string::npos);
    const ResultRow back = parse_row(line);
    expect_same(row, back);
    EXPECT_EQ(back.to_json(), line);
    // Field order in the line is the documented one (config keeps its order too).
    EXPECT_EQ(line.rfind("{\"experiment\":\"exp_a\",\"row_id\":\"r1\",", 0), 0u) << line;
    EXPECT_NE(line.find("\"config\":{\"lr\":\"0.01\",\"epochs\":\"5\"}"), std::string::npos);
}

TEST(ResultRow, ToJsonRefusesWhatJsonCannotHold) {
    ResultRow row = sample_row("r1");
    row.metrics["AUS"] = std::nan("");
    EXPECT_NE(error_of([&] { (void)row.to_json(); }).find("metrics.AUS"), std::string::npos);
    row = sample_row("r1");
    row.curve[1].margin = INFINITY;
    EXPECT_NE(error_of([&] { (void)row.to_json(); }).find("curve[1].margin"), std::string::npos);
    row = sample_row("r1");
    row.axes.push_back({"dist", "gaussian"});
    EXPECT_NE(error_of([&] { (void)row.to_json(); }).find("'dist' twice"), std::string::npos);
}

TEST(ResultRow, FromJsonIsStrictAndNamesTheLine) {
    const std::string line = sample_row("r1").to_json();
    const std::string where = "runs/x/results.jsonl:7";
    auto error = [&](const std::string& text) { return error_of([&] { parse_row(text, where); }); };
    std::string e = error(replaced(line, "\"kind\":\"unlearn\",", ""));
    EXPECT_NE(e.find(where + ": missing field 'kind'"), std::string::npos) << e;
    e = error(replaced(line, "\"seed\":1234567890123", "\"seed\":\"1\""));
    EXPECT_NE(e.find(where + ": field 'seed' must be an integer"), std::string::npos) << e;
    e = error(replaced(line, "\"seed\":1234567890123", "\"seed\":1.5"));
    EXPECT_NE(e.find("field 'seed'"), std::string::npos) << e;
    e = error(replaced(line, "{", "{\"extra\":1,"));
    EXPECT_NE(e.find(where + ": unknown field 'extra'"), std::string::npos) << e;
    e = error(replaced(line, "\"kind\":\"unlearn\"", "\"kind\":\"retrain\""));
    EXPECT_NE(e.find("'retrain', expected original, oracle or unlearn"), std::string::npos) << e;
    e = error(replaced(line, "\"margin\":2.25,", ""));
    EXPECT_NE(e.find(where + ": missing field 'curve[1].margin'"), std::string::npos) << e;
    e = error(replaced(line, "\"A_f_test\":0.10000000000000001", "\"A_f_test\":\"0.1\""));
    EXPECT_NE(e.find("field 'metrics.A_f_test' must be a number"), std::string::npos) << e;
    e = error(replaced(line, "\"classes\":[3,5]", "\"classes\":[3,-5]"));
    EXPECT_NE(e.find("field 'classes' has -5"), std::string::npos) << e;
    e = error("[1,2]");
    EXPECT_NE(e.find("must be a JSON object"), std::string::npos) << e;
}

TEST(ResultsFile, AppendIsDurableAndVisibleToNewReaders) {
    ScratchDir dir("append");
    const std::string path = (dir.path / "a" / "b" / "results.jsonl").string();  // dirs missing
    ResultsFile f(path);
    EXPECT_TRUE(f.rows().empty());
    EXPECT_FALSE(fs::exists(path));  // the constructor creates nothing
    f.append(sample_row("r1"));
    f.append(sample_row("r2"));
    EXPECT_TRUE(f.has("r1"));
    EXPECT_TRUE(f.has("r2"));
    EXPECT_FALSE(f.has("r3"));
    EXPECT_EQ(read_all(path),
              sample_row("r1").to_json() + "\n" + sample_row("r2").to_json() + "\n");

    const ResultsFile g(path);
    ASSERT_EQ(g.rows().size(), 2u);
    expect_same(g.rows()[0], sample_row("r1"));
    expect_same(g.rows()[1], sample_row("r2"));
}

TEST(ResultsFile, DuplicateIdIsAnError) {
    ScratchDir dir("dup");
    const std::string path = (dir.path / "results.jsonl").string();
    ResultsFile f(path);
    f.append(sample_row("r1"));
    const std::string e = error_of([&] { f.append(sample_row("r1")); });
    EXPECT_NE(e.find("row_id 'r1' is already in the file"), std::string::npos) << e;
    EXPECT_EQ(read_all(path), sample_row("r1").to_json() + "\n");  // unchanged

    // The same id twice in a file (written by hand) is refused when read.
    write_all(path, sample_row("r1").to_json() + "\n" + sample_row("r1").to_json() + "\n");
    const std::string e2 = error_of([&] { ResultsFile g(path); });
    EXPECT_NE(e2.find(path + ":2: row_id 'r1' appears twice"), std::string::npos) << e2;
}

TEST(ResultsFile, TornLastLineIsIgnoredThenCutOffByTheNextAppend) {
    ScratchDir dir("torn");
    const std::string path = (dir.path / "results.jsonl").string();
    const std::string line1 = sample_row("r1").to_json(), line2 = sample_row("r2").to_json();
    write_all(path, line1 + "\n" + line2.substr(0, 40));  // killed in the middle of a write
    ResultsFile f(path);
    ASSERT_EQ(f.rows().size(), 1u);
    EXPECT_FALSE(f.has("r2"));
    f.append(sample_row("r3"));
    EXPECT_EQ(read_all(path), line1 + "\n" + sample_row("r3").to_json() + "\n");
    const ResultsFile g(path);
    ASSERT_EQ(g.rows().size(), 2u);
    EXPECT_EQ(g.rows()[1].row_id, "r3");

    // A file holding only a torn line.
    write_all(path, line2.substr(0, 10));
    ResultsFile h(path);
    EXPECT_TRUE(h.rows().empty());
    h.append(sample_row("r2"));
    EXPECT_EQ(read_all(path), line2 + "\n");
}

TEST(ResultsFile, CorruptCompleteLineIsAnErrorNamingTheLine) {
    ScratchDir dir("corrupt");
    const std::string path = (dir.path / "results.jsonl").string();
    write_all(path, sample_row("r1").to_json() + "\n{\"experiment\": oops\n" +
                        sample_row("r3").to_json() + "\n");
    std::string e = error_of([&] { ResultsFile f(path); });
    EXPECT_NE(e.find(path + ":2"), std::string::npos) << e;
    EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;
    write_all(path, "\n");  // an empty complete line is not a row either
    e = error_of([&] { ResultsFile f(path); });
    EXPECT_NE(e.find(path + ":1"), std::string::npos) << e;
}

TEST(ResultsFile, RefusesToAppendWhenAnotherWriterChangedTheFile) {
    ScratchDir dir("race");
    const std::string path = (dir.path / "results.jsonl").string();
    ResultsFile a(path), b(path);
    a.append(sample_row("r1"));
    const std::string e = error_of([&] { b.append(sample_row("r2")); });
    EXPECT_NE(e.find("changed since it was read"), std::string::npos) << e;
    EXPECT_EQ(read_all(path), sample_row("r1").to_json() + "\n");  // a's row survives
}

TEST(ResultsFile, BuildGitShaIsSet) {
    const std::string sha = build_git_sha();
    EXPECT_FALSE(sha.empty());
    EXPECT_EQ(sha.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace obl
