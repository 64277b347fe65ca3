// Atomic file output: write to a temporary file in the target's directory, fsync, rename over
// the target. Readers see either the old file or the complete new one, never a partial file;
// on any error the temporary is removed and obl::Error names the path and the reason.
#pragma once

#include <cstddef>
#include <string>

namespace obl {

void write_file_atomic(const std::string& path, const void* data, size_t size);

}  // namespace obl
