// Shared by the libFuzzer targets (fuzz/README.md): an in-memory file the readers can open by
// path, and the one rule every target follows.
//
// Each target feeds the fuzzer's bytes through the same public reader the `oblivio` CLI calls.
// Readers take a path, so the bytes go into a memfd (an anonymous file in RAM, no disk traffic)
// that is opened as /proc/self/fd/<n>. obl::Error is the expected answer to bad input and is
// caught; anything else — a crash, an ASan or UBSan report, any other exception escaping, a leak,
// a timeout or an allocation over libFuzzer's limit — is a finding.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace obl::fuzz {

class MemFile {
   public:
    explicit MemFile(const char* name) {
        fd_ = memfd_create(name, MFD_CLOEXEC);
        if (fd_ < 0) {
            std::perror("memfd_create");
            std::abort();
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    ~MemFile() { ::close(fd_); }
    MemFile(const MemFile&) = delete;
    MemFile& operator=(const MemFile&) = delete;

    // Replaces the file's content with `data` and returns the path that opens it.
    const std::string& write(const uint8_t* data, size_t size) {
        if (::ftruncate(fd_, 0) != 0) std::abort();
        size_t done = 0;
        while (done < size) {
            const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
            if (n <= 0) std::abort();
            done += static_cast<size_t>(n);
        }
        return path_;
    }

   private:
    int fd_ = -1;
    std::string path_;
};

}  // namespace obl::fuzz
