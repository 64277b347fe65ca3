// Where a tensor lives. cuda_available() is true only in CUDA builds with a usable GPU.
#pragma once

#include <cstdint>
#include <ostream>

namespace obl {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
    DeviceType type = DeviceType::CPU;
    int index = 0;

    static Device cpu() { return {DeviceType::CPU, 0}; }
    static Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }
    bool is_cpu() const { return type == DeviceType::CPU; }
    bool is_cuda() const { return type == DeviceType::CUDA; }
    bool operator==(const Device& o) const { return type == o.type && index == o.index; }
    bool operator!=(const Device& o) const { return !(*this == o); }
};

inline std::ostream& operator<<(std::ostream& os, Device d) {
    return d.is_cpu() ? os << "cpu" : os << "cuda:" << d.index;
}

// True when this build has the CUDA backend and a GPU is present (never throws).
bool cuda_available();

}  // namespace obl
