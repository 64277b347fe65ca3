// Image transforms (torchvision.transforms semantics) applied per sample on the CPU.
//
// A Compose maps a raw batch (B, C, H, W) of u8 pixels (or f32) to f32 (B, C', H', W'):
//   1. to float: x / 255 for u8 (torchvision ToTensor), f32 unchanged;
//   2. each transform in order, on one (C, H, W) float image at a time.
// Transforms, following torchvision 0.14 (transforms.py / functional_tensor.py):
//   random_crop(h, w, pad)  zero-pad every side by `pad`, then crop h x w at a uniformly drawn
//                           top-left corner i in [0, H + 2 pad - h], j in [0, W + 2 pad - w].
//   horizontal_flip(p)      with probability p: out[c][y][x] = in[c][y][W - 1 - x].
//   resize(h, w, mode)      F.interpolate(align_corners=False, antialias=False): output pixel x
//                           samples source coordinate s = (x + 0.5) * W_in / W_out - 0.5;
//                           bilinear clamps s < 0 to 0 and blends pixels floor(s), floor(s) + 1
//                           (index clamped to W_in - 1); bicubic uses the Keys kernel with
//                           A = -0.75 on pixels floor(s) - 1 ... floor(s) + 2, indices clamped to
//                           the border (aten/src/ATen/native/UpSample.h). Rows first, then
//                           columns, like PyTorch's CPU kernel.
//   center_crop(h, w)       top = round((H - h) / 2), left = round((W - w) / 2), rounding half to
//                           even like Python's round() in torchvision's F.center_crop.
//   normalize(mean, std)    out[c] = (in[c] - mean[c]) / std[c].
//   random_rotation(d)      torchvision RandomRotation(d) on tensors (default NEAREST, fill 0):
//                           angle a ~ U[-d, d] degrees, counter-clockwise about the image centre
//                           ((W - 1) / 2, (H - 1) / 2); output pixel (x, y), centred as
//                           (u, v) = (x - (W - 1) / 2, y - (H - 1) / 2), reads the source pixel
//                           (round(cos a u - sin a v + (W - 1) / 2), round(sin a u + cos a v +
//                           (H - 1) / 2)) (round half to even, as grid_sample's nearest), 0 when
//                           it falls outside (functional_tensor.rotate -> _gen_affine_grid).
//
// Randomness: sample b of a batch draws from SampleRng(seed, epoch, index[b]), where index[b] is
// its dataset index. The stream depends on nothing else, so the result does not depend on the
// thread count, the batch composition or the order in which batches are built.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/ops/shape_ops.h"  // InterpMode
#include "nn/tensor.h"

namespace obl {

// Counter-based per-sample random stream: draw k = splitmix64(key + (k + 1) * golden), where
// key = splitmix64 chain of (seed, epoch, index). Cheap to create, no shared state.
class SampleRng {
   public:
    SampleRng(uint64_t seed, uint64_t epoch, uint64_t index);
    uint64_t next_u64();
    double uniform();                // [0, 1) with 53 random bits
    int64_t uniform_int(int64_t n);  // [0, n), unbiased (rejection); n >= 1

   private:
    uint64_t key_;
    uint64_t counter_ = 0;
};
uint64_t splitmix64(uint64_t x);

// One float image, CHW contiguous.
struct Image {
    int64_t c = 0, h = 0, w = 0;
    std::vector<float> v;
    void resize(int64_t channels, int64_t height, int64_t width) {
        c = channels, h = height, w = width;
        v.resize(static_cast<size_t>(c * h * w));
    }
    float& at(int64_t ch, int64_t y, int64_t x) {
        return v[static_cast<size_t>((ch * h + y) * w + x)];
    }
    const float& at(int64_t ch, int64_t y, int64_t x) const {
        return v[static_cast<size_t>((ch * h + y) * w + x)];
    }
};

class Transform {
   public:
    virtual ~Transform() = default;
    virtual std::string name() const = 0;  // e.g. "random_crop(32, 32, pad 4)"
    // Output (C, H, W) for an input (C, H, W); throws obl::Error when the input does not fit.
    virtual Shape out_shape(const Shape& in) const = 0;
    // out = T(in) (out is resized here; in and out are distinct). Random transforms draw from
    // `rng` only.
    virtual void apply(const Image& in, Image& out, SampleRng& rng) const = 0;
};
using TransformPtr = std::shared_ptr<const Transform>;

TransformPtr random_crop(int64_t height, int64_t width, int64_t padding);
TransformPtr horizontal_flip(double p = 0.5);
TransformPtr resize(int64_t height, int64_t width, InterpMode mode = InterpMode::Bilinear);
TransformPtr center_crop(int64_t height, int64_t width);
TransformPtr normalize(std::vector<float> mean, std::vector<float> std);
TransformPtr random_rotation(double degrees);  // degrees in [0, 180]

// The resampling of random_rotation() for a given angle (degrees, counter-clockwise).
void rotate_image(const Image& in, Image& out, double degrees);

// The resampling used by resize(), for callers with an Image at hand (e.g. ImageFolder's
// fixed-size loading).
void resize_image(const Image& in, Image& out, int64_t height, int64_t width, InterpMode mode);

class Compose {
   public:
    Compose() = default;  // to float only
    explicit Compose(std::vector<TransformPtr> transforms);

    const std::vector<TransformPtr>& transforms() const { return transforms_; }
    std::string describe() const;  // "to_float -> random_crop(...) -> ..."
    // Sample shape after the pipeline, for a (C, H, W) input.
    Shape out_shape(const Shape& in) const;
    // One sample: `src` points to C*H*W pixels (u8 if `u8`, else f32) in CHW order; `tmp` and
    // `out` are caller-owned scratch (reused across samples).
    void apply_one(const void* src, bool u8, int64_t c, int64_t h, int64_t w, SampleRng& rng,
                   Image& tmp, Image& out) const;
    // A batch (B, C, H, W) u8 or f32 -> f32 (B, C', H', W'); indices[b] is row b's dataset index.
    Tensor apply(const Tensor& x, const std::vector<int64_t>& indices, uint64_t seed,
                 uint64_t epoch) const;

   private:
    std::vector<TransformPtr> transforms_;
};

}  // namespace obl
