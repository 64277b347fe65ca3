// libFuzzer target: the image decode path of image folders and Tiny-ImageNet (data/image_folder.h,
// stb_image underneath). One input goes through what ImageFileDataset does with a file: its
// constructor sizes the dataset from the first image (the guards and header probe), batch()
// decodes it (decode_image_rgb) and compares sizes; with a resize option it is decoded and
// resized.
//
// Decoding stops at 256 x 256 pixels here: a header may declare up to the reader's limit (2^25
// pixels), and decoding that many under ASan takes 20-60 s, which would make every such input a
// libFuzzer timeout. The constructor's probe still runs on every input; the size limit itself is
// covered by tests/data/test_image_folder.cpp.
#include <cstdint>
#include <vector>

#include "data/image_folder.h"
#include "fuzz/fuzz_util.h"
#include "kernels/common/check.h"

namespace {
constexpr int64_t kMaxDecodedPixels = 256 * 256;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static obl::fuzz::MemFile file("fuzz_image");
    const std::string& path = file.write(data, size);
    try {
        obl::ImageFileDataset native({path}, {0}, {"only"});
        const obl::Shape shape = native.sample_shape();  // (3, H, W) from the header
        if (shape[1] * shape[2] > kMaxDecodedPixels) return 0;
        native.batch({0});
        obl::ImageFileDataset resized({path}, {0}, {"only"}, {/*height=*/5, /*width=*/7});
        std::vector<uint8_t> out(3 * 5 * 7);
        resized.load(0, out.data());
    } catch (const obl::Error&) {
    }
    return 0;
}
