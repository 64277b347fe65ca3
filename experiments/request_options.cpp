// The options of one forget request (experiments/request_options.h).
#include "experiments/request_options.h"

#include "kernels/common/check.h"
#include "models/classifier.h"
#include "nn/cuda_context.h"
#include "nn/io/json.h"
#include "unlearn/methods.h"

namespace obl::cli {

OptionStatus take_request_option(ArgCursor& args, RequestOptions& opts, std::string& error) {
    const std::string arg = args.current();
    std::string v;
    const auto bad = [&](const std::string& message) {
        error = message;
        return OptionStatus::Bad;
    };
    if (arg == "--model") {
        if (!args.value(opts.model_path)) return bad("--model needs a safetensors file");
    } else if (arg == "--arch") {
        if (!args.value(opts.arch)) return bad("--arch needs a zoo name (see oblivio models)");
    } else if (arg == "--classes") {
        if (!args.value(opts.classes_text)) return bad("--classes needs a list like 3 or 3,5");
    } else if (arg == "--method") {
        if (!args.value(opts.method)) return bad("--method needs a name (see oblivio methods)");
    } else if (arg == "--cut") {
        if (!args.value(opts.cut)) return bad("--cut needs a split point");
    } else if (arg == "--samples-per-class") {
        if (!args.value(v) || !parse_int(v, 1, int64_t(1) << 32, opts.per_class))
            return bad("--samples-per-class needs a positive integer");
    } else if (arg == "--dist") {
        if (!args.value(opts.dist)) return bad("--dist needs gaussian, uniform or laplace");
    } else if (arg == "--sigma") {
        if (!args.value(v) || !detail::parse_field(v, &opts.sigma) || !(opts.sigma > 0))
            return bad("--sigma needs a positive number, got '" + v + "'");
    } else if (arg == "--seed") {
        if (!args.value(v) || !parse_int(v, 0, INT64_MAX, opts.seed))
            return bad("--seed needs a non-negative integer");
    } else if (arg == "--set") {
        if (!args.value(v)) return bad("--set needs key=value");
        auto kv = parse_key_value(v);
        if (kv.first.rfind("select.", 0) == 0)
            opts.select_overrides.push_back({kv.first.substr(7), kv.second});
        else
            opts.overrides.push_back(kv);
    } else if (arg == "--device") {
        if (!args.value(opts.device) || (opts.device != "cpu" && opts.device != "cuda"))
            return bad("--device must be cpu or cuda");
    } else {
        return OptionStatus::NotMine;
    }
    return OptionStatus::Taken;
}

std::string request_options_problem(const RequestOptions& opts, const std::string& command,
                                    bool method_required) {
    if (opts.model_path.empty()) return command + " needs --model FILE.safetensors";
    if (opts.arch.empty()) return command + " needs --arch (see oblivio models)";
    if (opts.classes_text.empty()) return command + " needs --classes C[,C...]";
    if (method_required && opts.method.empty())
        return command + " needs --method (see oblivio methods)";
    if (opts.device == "cuda" && !cuda_available())
        return "--device cuda: no usable CUDA device in this build/machine";
    return "";
}

Device request_device(const RequestOptions& opts) {
    return opts.device == "cuda" ? Device::cuda(0) : Device::cpu();
}

ForgetRequest build_request(const RequestOptions& opts) {
    ForgetRequest req;
    for (size_t start = 0;;) {
        const size_t comma = opts.classes_text.find(',', start);
        const std::string item = opts.classes_text.substr(start, comma - start);
        int64_t c = 0;
        if (!parse_int(item, 0, 1 << 30, c))
            OBL_THROW("--classes: '", item, "' is not a class index");
        req.classes.push_back(static_cast<int>(c));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    find_method(opts.method);  // an unknown method is an error before any work
    req.method = opts.method;
    req.overrides = opts.overrides;
    req.cut = opts.cut;
    req.sampler.per_class = opts.per_class;
    req.sampler.distribution = parse_synth_distribution(opts.dist);
    req.sampler.sigma = opts.sigma;
    req.seed = static_cast<uint64_t>(opts.seed);
    for (const auto& [key, text] : opts.select_overrides)
        set_field(req.selection, "selection", key, text);
    req.device = request_device(opts);
    return req;
}

bool read_previously_forgotten(const LoadedModel& loaded, const std::string& model_path,
                               ForgetRequest& request) {
    const auto it = loaded.metadata.find("forgotten_classes");
    if (it == loaded.metadata.end() || it->second.empty()) return false;
    if (!detail::parse_field(it->second, &request.previously_forgotten))
        OBL_THROW(model_path, ": bad 'forgotten_classes' metadata '", it->second, "'");
    return true;
}

}  // namespace obl::cli
