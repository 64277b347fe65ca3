// `oblivio forget` (source-free class unlearning of a zoo checkpoint, unlearn/forget.h) and
// `oblivio methods [-v]` (the method table with config fields and defaults),
// experiments/cmd_forget.cpp. argv[0] is the command name (experiments/commands.h: main passes
// argv + 1); {program, command, options...} is accepted too. Both return 0 on success and 2 after
// printing one "error: ..." line for usage or data errors (nothing is written then).
#pragma once

namespace obl::cli {

int cmd_forget(int argc, char** argv);
int cmd_methods(int argc, char** argv);

}  // namespace obl::cli
