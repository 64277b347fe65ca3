// Image folders and Tiny-ImageNet: trees of PNG and JPEG files written here with
// stb_image_write (compiled once, in stb_image_write_impl.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "tests/data/data_test_util.h"

namespace obl {
namespace {

using test::error_of;
using test::TempDir;
using ::testing::HasSubstr;

// HWC pixels of a w x h image with `channels` channels: value = (seed * 40 + y * 7 + x * 3 + ch *
// 50) % 256.
std::vector<uint8_t> pattern(int w, int h, int channels, int seed) {
    std::vector<uint8_t> px;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < channels; ++c)
                px.push_back(static_cast<uint8_t>((seed * 40 + y * 7 + x * 3 + c * 50) % 256));
    return px;
}

void write_png(const std::string& path, int w, int h, int channels, int seed) {
    const auto px = pattern(w, h, channels, seed);
    ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, channels, px.data(), w * channels)) << path;
}

// A flat-colour JPEG (quality 100) decodes to within a couple of levels of its colour.
void write_jpeg(const std::string& path, int w, int h, uint8_t r, uint8_t g, uint8_t b) {
    std::vector<uint8_t> px;
    for (int i = 0; i < w * h; ++i) px.insert(px.end(), {r, g, b});
    ASSERT_TRUE(stbi_write_jpg(path.c_str(), w, h, 3, px.data(), 100)) << path;
}

// A Tiny-ImageNet tree with 3 wnids (listed unsorted), 2 train images each (one PNG, one JPEG),
// 4 val images, 8x8 pixels.
void write_tiny_imagenet(const TempDir& dir) {
    test::write_text(dir / "wnids.txt", "n03000000\nn01000000\nn02000000\n");
    test::write_text(dir / "words.txt",
                     "n00000001\tentity\nn01000000\tgoldfish, Carassius auratus\n"
                     "n02000000\ttabby, tabby cat\nn03000000\tschool bus\n");
    const char* wnids[] = {"n01000000", "n02000000", "n03000000"};
    for (int k = 0; k < 3; ++k) {
        const std::string images = dir / ("train/" + std::string(wnids[k]) + "/images");
        test::make_dirs(images);
        test::write_text(dir / ("train/" + std::string(wnids[k]) + "/" + wnids[k] + "_boxes.txt"),
                         "ignored\n");
        write_png(images + "/" + wnids[k] + "_0.PNG", 8, 8, 3, k);
        write_jpeg(images + "/" + wnids[k] + "_1.JPEG", 8, 8, static_cast<uint8_t>(60 * k), 128,
                   200);
    }
    test::make_dirs(dir / "val/images");
    write_jpeg(dir / "val/images/val_0.JPEG", 8, 8, 250, 10, 100);
    write_png(dir / "val/images/val_1.png", 8, 8, 1, 3);  // grayscale: replicated to RGB
    write_png(dir / "val/images/val_2.png", 8, 8, 4, 4);  // RGBA: alpha dropped
    write_png(dir / "val/images/val_3.png", 8, 8, 3, 5);
    test::write_text(dir / "val/val_annotations.txt",
                     "val_0.JPEG\tn03000000\t0\t1\t7\t7\n"
                     "val_1.png\tn01000000\t0\t0\t8\t8\n"
                     "val_2.png\tn02000000\t1\t1\t2\t2\n"
                     "val_3.png\tn01000000\t1\t1\t2\t2\n");
}

TEST(ImageFolder, TinyImageNetTrainSplit) {
    TempDir dir("tiny");
    write_tiny_imagenet(dir);
    auto ds = tiny_imagenet(dir.path(), DataSplit::Train);
    ASSERT_EQ(ds->size(), 6);
    ASSERT_EQ(ds->num_classes(), 3);
    EXPECT_EQ(ds->class_names(), (std::vector<std::string>{"goldfish", "tabby", "school bus"}));
    EXPECT_EQ(tiny_imagenet_wnids(dir.path()),
              (std::vector<std::string>{"n01000000", "n02000000", "n03000000"}));
    EXPECT_EQ(ds->sample_shape(), (Shape{3, 8, 8}));
    // Files sort as _0.PNG then _1.JPEG inside each class; classes in sorted wnid order.
    EXPECT_EQ(ds->labels(), (std::vector<int64_t>{0, 0, 1, 1, 2, 2}));
    EXPECT_THAT(ds->path(2), HasSubstr("n02000000_0.PNG"));

    Batch b = ds->batch({2, 5});
    ASSERT_EQ(b.x.shape(), (Shape{2, 3, 8, 8}));
    EXPECT_EQ(b.y.to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
    // PNG is lossless: sample 0 of the batch is pattern(seed 1), CHW.
    const auto hwc = pattern(8, 8, 3, 1);
    const uint8_t* x = b.x.u8();
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 8; ++y)
            for (int xx = 0; xx < 8; ++xx)
                ASSERT_EQ(x[(c * 8 + y) * 8 + xx], hwc[(y * 8 + xx) * 3 + c])
                    << "c " << c << " y " << y << " x " << xx;
    // JPEG of the flat colour (120, 128, 200) decodes within a few levels.
    const uint8_t* j = x + 3 * 64;
    EXPECT_NEAR(j[0 * 64 + 10], 120, 3);
    EXPECT_NEAR(j[1 * 64 + 20], 128, 3);
    EXPECT_NEAR(j[2 * 64 + 63], 200, 3);
}

TEST(ImageFolder, TinyImageNetValSplitForcesRgb) {
    TempDir dir("tiny_val");
    write_tiny_imagenet(dir);
    auto ds = open_dataset("tinyimagenet", dir.path(), DataSplit::Test);
    ASSERT_EQ(ds->size(), 4);
    EXPECT_EQ(ds->labels(), (std::vector<int64_t>{2, 0, 1, 0}));
    Batch b = ds->batch({0, 1, 2});
    const uint8_t* x = b.x.u8();
    EXPECT_NEAR(x[0], 250, 4);         // JPEG red
    EXPECT_NEAR(x[64 + 5], 10, 4);     // green
    EXPECT_NEAR(x[128 + 63], 100, 4);  // blue
    // Grayscale PNG: every channel equals the gray value.
    const auto gray = pattern(8, 8, 1, 3);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(x[192 + c * 64 + 9], gray[9]) << "channel " << c;
    // RGBA PNG: the RGB channels as written.
    const auto rgba = pattern(8, 8, 4, 4);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(x[384 + c * 64 + 9], rgba[9 * 4 + c]) << "channel " << c;
}

TEST(ImageFolder, TinyImageNetErrorsNameTheFile) {
    TempDir dir("tiny_bad");
    write_tiny_imagenet(dir);
    test::write_text(dir / "val/val_annotations.txt", "val_0.JPEG\tn09999999\t0\t0\t1\t1\n");
    EXPECT_THAT(error_of([&] { tiny_imagenet(dir.path(), DataSplit::Test); }),
                HasSubstr("val_annotations.txt line 1: wnid n09999999 is not in wnids.txt"));
    test::write_text(dir / "val/val_annotations.txt", "val_9.JPEG\tn01000000\t0\t0\t1\t1\n");
    EXPECT_THAT(error_of([&] { tiny_imagenet(dir.path(), DataSplit::Test); }),
                HasSubstr("val_9.JPEG does not exist"));

    // A truncated JPEG: the decode error names the file.
    const std::string jpeg = dir / "train/n01000000/images/n01000000_1.JPEG";
    test::write_bytes(jpeg, {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F'});
    auto ds = tiny_imagenet(dir.path(), DataSplit::Train);
    const std::string msg = error_of([&] { ds->batch({1}); });
    EXPECT_THAT(msg, HasSubstr("cannot decode image"));
    EXPECT_THAT(msg, HasSubstr(jpeg));

    // The same error comes out of the loader's worker threads.
    LoaderOptions opt;
    opt.batch_size = 2;
    opt.shuffle = false;
    opt.num_workers = 2;
    DataLoader loader(ds, opt);
    loader.start_epoch(0);
    Batch b;
    EXPECT_THAT(error_of([&] { loader.next(b); }), HasSubstr(jpeg));
    EXPECT_TRUE(loader.next(b));  // later batches are unaffected
    EXPECT_EQ(b.x.shape(), (Shape{2, 3, 8, 8}));

    test::write_text(dir / "wnids.txt", "n01000000\nn01000000\n");
    EXPECT_THAT(error_of([&] { tiny_imagenet(dir.path(), DataSplit::Train); }),
                HasSubstr("line 2: wnid n01000000 listed twice"));
}

TEST(ImageFolder, ClassFoldersSizesAndResizeOnLoad) {
    TempDir dir("folder");
    test::make_dirs(dir / "zebra/sub");
    test::make_dirs(dir / "ant");
    test::make_dirs(dir / ".hidden");
    write_png(dir / "zebra/b.png", 6, 4, 3, 0);
    write_png(dir / "zebra/sub/a.png", 6, 4, 3, 1);  // nested files count (torchvision walks)
    write_png(dir / "ant/c.png", 6, 4, 3, 2);
    test::write_text(dir / "ant/notes.txt", "not an image\n");
    auto ds = image_folder(dir.path());
    ASSERT_EQ(ds->size(), 3);
    EXPECT_EQ(ds->class_names(), (std::vector<std::string>{"ant", "zebra"}));
    EXPECT_EQ(ds->labels(), (std::vector<int64_t>{0, 1, 1}));
    EXPECT_EQ(ds->sample_shape(), (Shape{3, 4, 6}));

    // A differently sized image is an error naming it, unless images are resized on load.
    write_png(dir / "zebra/c.png", 5, 5, 3, 3);
    auto mixed = image_folder(dir.path());
    const std::string msg = error_of([&] { mixed->batch({0, 1, 2, 3}); });
    EXPECT_THAT(msg, HasSubstr("zebra/c.png"));
    EXPECT_THAT(msg, HasSubstr("is 5x5 but the dataset's images are 4x6"));
    ImageFolderOptions opt;
    opt.height = 2;
    opt.width = 3;
    auto resized = image_folder(dir.path(), opt);
    Batch b = resized->batch({0, 3});
    ASSERT_EQ(b.x.shape(), (Shape{2, 3, 2, 3}));
    // 6x4 -> 3x2 bilinear (align_corners=False): every output pixel is the mean of a 2x2 block,
    // source coordinate 2 * o + 0.5. Pixel (0, 0), channel 0 of ant/c.png (seed 2):
    // mean of 80, 83, 87, 90 = 85.
    EXPECT_EQ(b.x.u8()[0], 85);

    TempDir empty("folder_empty");
    test::make_dirs(empty / "cls");
    EXPECT_THAT(error_of([&] { image_folder(empty.path()); }), HasSubstr("holds no image files"));
}

// The start of a baseline greyscale JPEG, 8x8: SOI, a quantisation table of ones, SOF0.
std::vector<uint8_t> jpeg_head() {
    std::vector<uint8_t> b = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
    b.insert(b.end(), 64, 1);
    b.insert(b.end(),
             {0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00});
    return b;
}
// A scan of that one component with DC and AC huffman tables 0, a few entropy bytes, EOI.
void append_jpeg_scan(std::vector<uint8_t>& b) {
    b.insert(b.end(), {0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00});
    b.insert(b.end(), {0x12, 0x34, 0x56, 0x78, 0xFF, 0xD9});
}

// Found by fuzz/fuzz_image (stb_image v2.27 bugs, fixed upstream in v2.28; the guards are in
// data/image_folder.cpp and data/stb_image_impl.cpp).
TEST(ImageFolder, HostileJpegsAreErrorsOrHarmless) {
    TempDir dir("hostile_jpeg");
    // A huffman table declaring 2 x 16 x 16 = 512 codes: stb would write past its 257-entry size
    // table. Refused before stb sees the file, by the decoder and by the dataset's size probe.
    std::vector<uint8_t> dht = jpeg_head();
    dht.insert(dht.end(), {0xFF, 0xC4, 0x00, 0x13, 0x00});
    dht.insert(dht.end(), 16, 32);
    append_jpeg_scan(dht);
    const std::string bad = dir / "dht.jpg";
    test::write_bytes(bad, dht);
    std::string msg = error_of([&] { decode_image_rgb(bad); });
    EXPECT_THAT(msg, HasSubstr(bad));
    EXPECT_THAT(msg, HasSubstr("huffman table declares 512 codes, at most 256"));
    EXPECT_THAT(error_of([&] { ImageFileDataset({bad}, {0}, {"a"}); }),
                HasSubstr("huffman table declares 512 codes"));

    // A scan using huffman tables the file never defines. stb used whatever its new decoder state
    // held (a table left by the JPEG decoded before, say) and read far outside its value array;
    // zero-filled state decodes every code as symbol 0: DC 0, end of block -> flat grey 128.
    const std::string real = dir / "real.jpg";
    write_jpeg(real, 8, 8, 250, 10, 100);
    decode_image_rgb(real);
    std::vector<uint8_t> undefined = jpeg_head();
    append_jpeg_scan(undefined);
    const std::string none = dir / "no_tables.jpg";
    test::write_bytes(none, undefined);
    const DecodedImage img = decode_image_rgb(none);
    ASSERT_EQ(img.h, 8);
    ASSERT_EQ(img.w, 8);
    EXPECT_EQ(img.chw, std::vector<uint8_t>(3 * 8 * 8, 128));
}

// Found by fuzz/fuzz_image in stb_image v2.27's PNM and PNG readers (guards in
// data/image_folder.cpp).
TEST(ImageFolder, HostilePnmAndPngFilesAreErrorsOrHarmless) {
    TempDir dir("hostile_pnm_png");
    auto bytes_of = [](const std::string& text) {
        return std::vector<uint8_t>(text.begin(), text.end());
    };
    // A header number past INT_MAX: stb's digit loop overflowed an int.
    const std::string big = dir / "big.ppm";
    test::write_bytes(big, bytes_of("P6\n99999999999 1 255\n"));
    EXPECT_THAT(error_of([&] { decode_image_rgb(big); }),
                HasSubstr("corrupt PNM header (a width, height or maximum value over 2147483647)"));

    // A 16-bit grey PGM, 2 x 1: stb expanded it to RGB as if 8-bit, then read that as 16-bit past
    // the end of its buffer. Samples 0x5A5A and 0xC3C3 read the same in either byte order.
    std::vector<uint8_t> pgm = bytes_of("P5 2 1 65535\n");
    pgm.insert(pgm.end(), {0x5A, 0x5A, 0xC3, 0xC3});
    const std::string grey16 = dir / "grey16.pgm";
    test::write_bytes(grey16, pgm);
    const DecodedImage img = decode_image_rgb(grey16);
    ASSERT_EQ(img.h, 1);
    ASSERT_EQ(img.w, 2);
    EXPECT_EQ(img.chw, (std::vector<uint8_t>{0x5A, 0xC3, 0x5A, 0xC3, 0x5A, 0xC3}));

    // An empty IDAT chunk before the image data: stb memcpy'd 0 bytes to a null buffer. Refused;
    // an empty IDAT after some data is harmless and still decodes.
    const std::string png = dir / "a.png";
    write_png(png, 2, 2, 3, 0);
    std::ifstream in(png, std::ios::binary);
    const std::vector<uint8_t> good((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    const size_t idat = std::search(good.begin(), good.end(), std::begin("IDAT"),
                                    std::begin("IDAT") + 4) -
                        good.begin() - 4;  // start of the first IDAT chunk (its length)
    ASSERT_LT(idat + 8, good.size());
    const std::vector<uint8_t> empty_chunk = {0, 0, 0, 0, 'I', 'D', 'A', 'T', 0, 0, 0, 0};
    std::vector<uint8_t> before = good;
    before.insert(before.begin() + static_cast<std::ptrdiff_t>(idat), empty_chunk.begin(),
                  empty_chunk.end());
    const std::string empty_first = dir / "empty_first.png";
    test::write_bytes(empty_first, before);
    EXPECT_THAT(error_of([&] { decode_image_rgb(empty_first); }),
                HasSubstr("corrupt PNG (an empty IDAT chunk before any image data)"));
    const size_t idat_length = size_t(good[idat]) << 24 | size_t(good[idat + 1]) << 16 |
                               size_t(good[idat + 2]) << 8 | good[idat + 3];
    std::vector<uint8_t> after = good;
    after.insert(after.begin() + static_cast<std::ptrdiff_t>(idat + 12 + idat_length),
                 empty_chunk.begin(), empty_chunk.end());
    const std::string empty_later = dir / "empty_later.png";
    test::write_bytes(empty_later, after);
    EXPECT_EQ(decode_image_rgb(empty_later).chw, decode_image_rgb(png).chw);
}

// Found by fuzz/fuzz_image (`make fuzz`, 10 minutes): stb sizes its IDAT buffer from the length a
// chunk declares, so this 91-byte PNG (a second IDAT claiming 1,952,526,080 bytes) made it allocate
// 2 GiB. A chunk that does not fit in the file is refused before stb sees it, and so is a
// well-formed PNG cut inside a chunk.
TEST(ImageFolder, PngChunksMustFitInTheFile) {
    TempDir dir("png_chunks");
    const std::vector<uint8_t> oom = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
        0x44, 0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x08, 0x06, 0x00, 0x00,
        0x00, 0x4b, 0x2d, 0x85, 0x8c, 0x00, 0x00, 0x00, 0x25, 0x49, 0x44, 0x41, 0x54, 0x78,
        0x9c, 0x55, 0xc7, 0x31, 0x11, 0xff, 0xff, 0x5f, 0x20, 0x00, 0x02, 0x42, 0xf0, 0x88,
        0xa8, 0x88, 0xf7, 0x6f, 0x0b, 0xd6, 0x36, 0x5b, 0x0a, 0x04, 0x00, 0x00, 0x00, 0xd1,
        0x6f, 0xee, 0x9f, 0x05, 0x60, 0xb4, 0x02, 0xd9, 0xce, 0x2f, 0x64, 0x61, 0x74, 0x61,
        0x2f, 0x00, 0x49, 0x44, 0x41, 0x54, 0x82};
    ASSERT_EQ(oom.size(), 91u);
    const std::string bomb = dir / "bomb.png";
    test::write_bytes(bomb, oom);
    EXPECT_THAT(error_of([&] { decode_image_rgb(bomb); }),
                HasSubstr("corrupt or truncated PNG (chunk 'IDAT' at byte 82 declares "
                          "1952526080 bytes of data; 1 bytes follow its header)"));

    const std::string png = dir / "a.png";
    write_png(png, 4, 3, 3, 1);
    std::ifstream in(png, std::ios::binary);
    std::vector<uint8_t> cut((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(cut.size(), 30u);
    cut.resize(cut.size() - 20);  // inside the IDAT chunk (IEND is the last 12 bytes)
    const std::string truncated = dir / "truncated.png";
    test::write_bytes(truncated, cut);
    EXPECT_THAT(error_of([&] { decode_image_rgb(truncated); }),
                HasSubstr("corrupt or truncated PNG (chunk 'IDAT'"));
}

// Found by fuzz/fuzz_image: a few header bytes declaring a huge image made stb decode gigabytes
// (missing data reads as zeros) and the dataset allocate its batch from the header size.
TEST(ImageFolder, ImagesOverTheSizeLimitAreRefusedFromTheirHeader) {
    TempDir dir("huge_image");
    // An uncompressed 24-bit TGA header (18 bytes) declaring 65535 x 600 = 39,321,000 pixels
    // (limit 2^25 = 33,554,432), with no pixel data.
    std::vector<uint8_t> tga = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0x58, 0x02, 24, 0};
    const std::string huge = dir / "huge.tga";
    test::write_bytes(huge, tga);
    const std::string msg = error_of([&] { decode_image_rgb(huge); });
    EXPECT_THAT(msg, HasSubstr(huge));
    EXPECT_THAT(msg, HasSubstr("size 65535x600 (at most 33554432 pixels accepted)"));
    EXPECT_THAT(error_of([&] { ImageFileDataset({huge}, {0}, {"a"}); }),
                HasSubstr("size 65535x600"));

    // The same header declaring 2 x 3 pixels, with its data, decodes as usual.
    tga[12] = 2;
    tga[13] = 0;
    tga[14] = 3;
    tga[15] = 0;
    for (int i = 0; i < 6; ++i) tga.insert(tga.end(), {10, 20, static_cast<uint8_t>(30 + i)});
    const std::string small = dir / "small.tga";
    test::write_bytes(small, tga);
    const DecodedImage img = decode_image_rgb(small);
    EXPECT_EQ(img.h, 3);
    EXPECT_EQ(img.w, 2);
}

TEST(ImageFolder, CatalogFolderSplits) {
    TempDir dir("folder_splits");
    test::make_dirs(dir / "train/a");
    test::make_dirs(dir / "val/a");
    write_png(dir / "train/a/x.png", 2, 2, 3, 0);
    write_png(dir / "val/a/y.png", 2, 2, 3, 1);
    EXPECT_EQ(dataset_splits("folder", dir.path()).size(), 2u);
    EXPECT_EQ(open_dataset("folder", dir.path(), DataSplit::Test)->size(), 1);
    EXPECT_EQ(dataset_splits("folder", dir / "train").size(), 1u);
}

}  // namespace
}  // namespace obl
