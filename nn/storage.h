// Storage: one allocation on one device, returned to its allocator in the destructor. Shared by
// tensors (views alias it) through std::shared_ptr<Storage>.
#pragma once

#include <cstddef>
#include <memory>

#include "nn/allocator.h"
#include "nn/device.h"

namespace obl {

struct Storage {
    void* data = nullptr;
    size_t nbytes = 0;
    Device device;
    Allocator* allocator = nullptr;

    Storage(size_t n, Device d);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
};

}  // namespace obl
