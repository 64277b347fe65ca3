// Atomic file output: write to a temporary file in the target's directory, fsync, rename over
// the target. Readers see either the old file or the complete new one, never a partial file;
// on any error the temporary is removed and obl::Error names the path and the reason.
//
// The temporary is named `<path>.tmp.<pid>`. A writer killed mid-write (SIGKILL, a lost
// machine) cannot remove its own: the next write of the same path removes every such file whose
// process no longer runs, so repeated kills do not pile up copies of a large output.
#pragma once

#include <cstddef>
#include <string>

namespace obl {

void write_file_atomic(const std::string& path, const void* data, size_t size);

// Removes the `<path>.tmp.<pid>` files of processes that no longer run (a killed writer's
// leftovers; the temporary of a live writer, this process included, is kept). Best effort:
// errors are ignored. For callers that delete `path` itself (a finished run's checkpoint).
void remove_stale_temporaries(const std::string& path);

}  // namespace obl
