// The options of one forget request, shared by `oblivio forget` and `oblivio explain` (a dry run
// of the same request), so that both read them the same way and build the same ForgetRequest:
//   --model --arch --classes --method --cut --samples-per-class --dist --sigma --seed --set
//   --device
// Each command loops over its arguments, hands every one to take_request_option() first and
// parses its own options (forget's --out / --eval-*, explain's --probe-draws) only when that
// returns NotMine.
#pragma once

#include <cstdint>
#include <string>

#include "experiments/cli_util.h"
#include "models/zoo.h"
#include "nn/device.h"
#include "unlearn/forget.h"
#include "unlearn/method.h"

namespace obl::cli {

struct RequestOptions {
    std::string model_path, arch, classes_text, method, cut = "pre_logits";
    std::string dist = "gaussian", device = "cpu";
    int64_t per_class = 5000, seed = 0;
    double sigma = 1.0;
    Overrides overrides;         // --set key=value
    Overrides select_overrides;  // --set select.key=value (the selection rule), "select." removed
};

enum class OptionStatus { NotMine, Taken, Bad };
// If args.current() is a request option, consumes it and its value into `opts` (Taken, or Bad
// with `error` set to the one-line message); NotMine leaves everything untouched.
OptionStatus take_request_option(ArgCursor& args, RequestOptions& opts, std::string& error);

// The first problem with the options as a whole ("" when none): a required option missing
// (--model, --arch, --classes; --method too when `method_required`), or --device cuda without a
// usable device. `command` names the command in the message ("oblivio forget needs --model ...").
std::string request_options_problem(const RequestOptions& opts, const std::string& command,
                                    bool method_required);

Device request_device(const RequestOptions& opts);

// The ForgetRequest the options describe (classes, method, settings, sampler, seed, selection,
// device). Throws obl::Error with a one-line message for a bad class list, an unknown method or
// distribution, or a bad selection setting.
ForgetRequest build_request(const RequestOptions& opts);

// Classes an earlier `oblivio forget` removed (the model's 'forgotten_classes' metadata) into
// request.previously_forgotten; returns true when there were any. Throws obl::Error when the
// metadata is malformed.
bool read_previously_forgotten(const LoadedModel& loaded, const std::string& model_path,
                               ForgetRequest& request);

}  // namespace obl::cli
