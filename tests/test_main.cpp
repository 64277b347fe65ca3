// GoogleTest entry point. OBL_TEST_DEVICE=cpu|cuda selects the device for the suites that use
// test_device(); OBL_TEST_THREADS sets the OpenMP team size.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "kernels/common/parallel.h"
#include "nn/device.h"
#include "tests/test_util.h"

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (const char* t = std::getenv("OBL_TEST_THREADS")) obl::set_num_threads(std::atoi(t));
    if (obl::test::test_device().is_cuda() && !obl::cuda_available()) {
        std::cerr << "OBL_TEST_DEVICE=cuda but no CUDA device is available\n";
        return 1;
    }
    return RUN_ALL_TESTS();
}
