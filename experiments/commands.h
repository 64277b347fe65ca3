// The `oblivio` subcommands, one function each; experiments/main.cpp dispatches on argv[1] and
// passes argv + 1 (so argv[0] is the command name). Each returns the process exit status:
// 0 success, 2 usage error or bad data (after printing "error: <one line>" to stderr).
#pragma once

namespace obl::cli {

// `oblivio data info --dataset NAME [--root DIR] ...` (experiments/cmd_data.cpp).
int cmd_data(int argc, char** argv);
// `oblivio selfcheck` (experiments/cmd_selfcheck.cpp).
int cmd_selfcheck(int argc, char** argv);
// `oblivio inspect FILE` (experiments/cmd_inspect.cpp).
int cmd_inspect(int argc, char** argv);
// `oblivio models` (the zoo table) and `oblivio eval` (top-1 and per-class accuracy of a
// converted checkpoint on a dataset), experiments/cmd_models.cpp.
int cmd_models(int argc, char** argv);
int cmd_eval(int argc, char** argv);
// `oblivio train` (experiments/cmd_train.cpp): originals and oracles from a recipe YAML.
int cmd_train(int argc, char** argv);
// `oblivio embed` (experiments/cmd_embed.cpp): real embeddings at a cut, cached.
int cmd_embed(int argc, char** argv);
// `oblivio run` (experiments/cmd_run.cpp): one experiment YAML, resumable.
int cmd_run(int argc, char** argv);
// `oblivio report` (experiments/cmd_report.cpp): tables and plots of a run directory.
int cmd_report(int argc, char** argv);
// `oblivio explain` (experiments/cmd_explain.cpp): a dry run of forget (split, draws, method,
// stopping rule, time estimate); trains and writes nothing.
int cmd_explain(int argc, char** argv);

}  // namespace obl::cli
