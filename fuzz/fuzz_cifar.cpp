// libFuzzer target: the CIFAR binary reader (data/cifar.h), through read_cifar_file — the function
// CifarDataset::cifar10 / cifar100 (and so `oblivio train` / `run`) read every batch file with.
// Each input is read both as a CIFAR-10 and as a CIFAR-100 file.
#include <cstdint>

#include "data/cifar.h"
#include "fuzz/fuzz_util.h"
#include "kernels/common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static obl::fuzz::MemFile file("fuzz_cifar.bin");
    const std::string& path = file.write(data, size);
    for (obl::CifarKind kind : {obl::CifarKind::Cifar10, obl::CifarKind::Cifar100}) {
        try {
            obl::read_cifar_file(path, kind);
        } catch (const obl::Error&) {
        }
    }
    return 0;
}
