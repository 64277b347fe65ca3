// Safetensors read/write (https://github.com/huggingface/safetensors format):
//   8 bytes  little-endian u64 N = header length
//   N bytes  UTF-8 JSON object: name -> {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}
//            plus an optional "__metadata__": {string: string}
//   rest     the data section; tensor bytes at [b, e) relative to its start, little-endian.
//
// Reading memory-maps the file and validates everything before touching data: header length
// (<= 100 MB and inside the file), strict JSON, known dtype names, non-negative shapes whose
// byte size fits and matches the offsets, offsets inside the data section, tensors neither
// overlapping nor leaving gaps (they must cover the data section exactly), unique UTF-8 names.
// Any violation throws obl::Error naming the file and the problem. Never executes anything
// from the file (no pickle).
//
// Dtypes: F32, F64, I32, I64, U8 load as themselves; F16 and BF16 are converted to f32 on load.
// Writing supports our dtypes (F32, F64, I32, I64, U8); files are written atomically
// (temporary file in the same directory, fsync, rename).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nn/tensor.h"

namespace obl {

struct SafetensorsFile {
    std::map<std::string, Tensor> tensors;          // CPU tensors
    std::map<std::string, std::string> metadata;    // "__metadata__" (string values only)
    std::vector<std::string> order;                 // names in data-offset order
};

// Reads and validates a whole file.
SafetensorsFile read_safetensors(const std::string& path);
// Parses an in-memory image of a file; `what` names it in errors (used by tests and fuzzers).
SafetensorsFile parse_safetensors(const unsigned char* data, size_t size, const std::string& what);

// Writes tensors (any device; copied to host) and string metadata atomically.
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
// The bytes write_safetensors would write (for tests).
std::vector<unsigned char> serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                                 const std::map<std::string, std::string>& metadata = {});

}  // namespace obl
