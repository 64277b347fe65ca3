// Image transforms (semantics and references in data/transforms.h).
#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace obl {

// ---- SampleRng ----------------------------------------------------------------------------------

namespace {
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
}

uint64_t splitmix64(uint64_t x) {
    x += kGolden;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

SampleRng::SampleRng(uint64_t seed, uint64_t epoch, uint64_t index)
    : key_(splitmix64(splitmix64(splitmix64(seed) ^ epoch) ^ index)) {}

uint64_t SampleRng::next_u64() { return splitmix64(key_ + (++counter_) * kGolden); }

double SampleRng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

int64_t SampleRng::uniform_int(int64_t n) {
    OBL_CHECK(n >= 1, "SampleRng::uniform_int: n must be >= 1, got ", n);
    const uint64_t un = static_cast<uint64_t>(n);
    // Reject the top partial block so that every residue is equally likely.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % un;
    uint64_t r;
    do r = next_u64();
    while (r >= limit);
    return static_cast<int64_t>(r % un);
}

namespace {

Shape chw(const Shape& in, const char* who) {
    OBL_CHECK(in.size() == 3, who, ": expects a (C, H, W) image, got shape ", in);
    return in;
}

// ---- random crop ------------------------------------------------------------------------------

class RandomCrop final : public Transform {
   public:
    RandomCrop(int64_t h, int64_t w, int64_t pad) : h_(h), w_(w), pad_(pad) {
        OBL_CHECK(h >= 1 && w >= 1 && pad >= 0, "random_crop: size ", h, "x", w, " padding ", pad,
                  " (need size >= 1, padding >= 0)");
    }
    std::string name() const override {
        return "random_crop(" + std::to_string(h_) + "x" + std::to_string(w_) + ", pad " +
               std::to_string(pad_) + ")";
    }
    Shape out_shape(const Shape& in) const override {
        chw(in, "random_crop");
        OBL_CHECK(in[1] + 2 * pad_ >= h_ && in[2] + 2 * pad_ >= w_, "random_crop: crop ", h_, "x",
                  w_, " is larger than the padded image ", in[1] + 2 * pad_, "x", in[2] + 2 * pad_,
                  " (input ", in, ", padding ", pad_, ")");
        return Shape{in[0], h_, w_};
    }
    void apply(const Image& in, Image& out, SampleRng& rng) const override {
        out_shape(Shape{in.c, in.h, in.w});
        // torchvision RandomCrop.get_params: top first, then left, each uniform over the range.
        const int64_t top = rng.uniform_int(in.h + 2 * pad_ - h_ + 1) - pad_;
        const int64_t left = rng.uniform_int(in.w + 2 * pad_ - w_ + 1) - pad_;
        out.resize(in.c, h_, w_);
        // Source columns [x_lo, x_hi) of each output row fall inside the image; the rest is
        // padding.
        const int64_t x_lo = std::clamp<int64_t>(-left, 0, w_);
        const int64_t x_hi = std::clamp<int64_t>(in.w - left, x_lo, w_);
        for (int64_t c = 0; c < in.c; ++c) {
            for (int64_t y = 0; y < h_; ++y) {
                float* dst = &out.at(c, y, 0);
                const int64_t sy = y + top;
                if (sy < 0 || sy >= in.h) {
                    std::fill(dst, dst + w_, 0.f);
                    continue;
                }
                std::fill(dst, dst + x_lo, 0.f);
                std::copy_n(&in.at(c, sy, x_lo + left), x_hi - x_lo, dst + x_lo);
                std::fill(dst + x_hi, dst + w_, 0.f);
            }
        }
    }

   private:
    int64_t h_, w_, pad_;
};

// ---- horizontal flip
// ------------------------------------------------------------------------------

class HorizontalFlip final : public Transform {
   public:
    explicit HorizontalFlip(double p) : p_(p) {
        OBL_CHECK(p >= 0 && p <= 1, "horizontal_flip: probability ", p, " outside [0, 1]");
    }
    std::string name() const override {
        std::ostringstream os;
        os << "horizontal_flip(p " << p_ << ")";
        return os.str();
    }
    Shape out_shape(const Shape& in) const override { return chw(in, "horizontal_flip"); }
    void apply(const Image& in, Image& out, SampleRng& rng) const override {
        const bool flip = rng.uniform() < p_;  // always one draw, so the stream stays aligned
        out.resize(in.c, in.h, in.w);
        if (!flip) {
            std::copy(in.v.begin(), in.v.end(), out.v.begin());
            return;
        }
        for (int64_t c = 0; c < in.c; ++c)
            for (int64_t y = 0; y < in.h; ++y) {
                const float* src = &in.at(c, y, 0);
                float* dst = &out.at(c, y, 0);
                for (int64_t x = 0; x < in.w; ++x) dst[x] = src[in.w - 1 - x];
            }
    }

   private:
    double p_;
};

// ---- resize
// ----------------------------------------------------------------------------------------

// Per output position: the source indices and weights along one axis (2 taps for bilinear, 4 for
// bicubic). Arithmetic in float like PyTorch's kernels for f32 tensors.
struct Taps {
    int n = 0;
    std::vector<int64_t> index;  // (out, n)
    std::vector<float> weight;   // (out, n)
};

float cubic1(float x, float a) { return ((a + 2) * x - (a + 3)) * x * x + 1; }        // |x| <= 1
float cubic2(float x, float a) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; }  // 1 < |x| < 2

Taps make_taps(int64_t in, int64_t out, InterpMode mode) {
    Taps t;
    t.n = mode == InterpMode::Bilinear ? 2 : 4;
    t.index.resize(static_cast<size_t>(out * t.n));
    t.weight.resize(static_cast<size_t>(out * t.n));
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    for (int64_t o = 0; o < out; ++o) {
        int64_t* idx = &t.index[static_cast<size_t>(o * t.n)];
        float* w = &t.weight[static_cast<size_t>(o * t.n)];
        // As area_pixel_compute_source_index: the expression is evaluated in double, then stored
        // as float.
        float src = static_cast<float>(scale * (static_cast<double>(o) + 0.5) - 0.5);
        if (mode == InterpMode::Bilinear) {
            src = std::max(src, 0.f);
            const int64_t i0 = static_cast<int64_t>(src);
            const float l1 = std::min(std::max(src - static_cast<float>(i0), 0.f), 1.f);
            idx[0] = i0;
            idx[1] = i0 + (i0 < in - 1 ? 1 : 0);
            w[0] = 1.f - l1;
            w[1] = l1;
        } else {
            const int64_t i0 = static_cast<int64_t>(std::floor(src));
            const float f = src - static_cast<float>(i0);
            const float a = -0.75f;
            w[0] = cubic2(f + 1.f, a);
            w[1] = cubic1(f, a);
            const float g = 1.f - f;
            w[2] = cubic1(g, a);
            w[3] = cubic2(g + 1.f, a);
            for (int k = 0; k < 4; ++k) idx[k] = std::clamp<int64_t>(i0 - 1 + k, 0, in - 1);
        }
    }
    return t;
}

class Resize final : public Transform {
   public:
    Resize(int64_t h, int64_t w, InterpMode mode) : h_(h), w_(w), mode_(mode) {
        OBL_CHECK(h >= 1 && w >= 1, "resize: output size ", h, "x", w, " must be positive");
    }
    std::string name() const override {
        return "resize(" + std::to_string(h_) + "x" + std::to_string(w_) +
               (mode_ == InterpMode::Bilinear ? ", bilinear)" : ", bicubic)");
    }
    Shape out_shape(const Shape& in) const override {
        chw(in, "resize");
        OBL_CHECK(in[1] >= 1 && in[2] >= 1, "resize: empty input image ", in);
        return Shape{in[0], h_, w_};
    }
    void apply(const Image& in, Image& out, SampleRng&) const override {
        resize_image(in, out, h_, w_, mode_);
    }

   private:
    int64_t h_, w_;
    InterpMode mode_;
};

// ---- center crop
// -----------------------------------------------------------------------------------

class CenterCrop final : public Transform {
   public:
    CenterCrop(int64_t h, int64_t w) : h_(h), w_(w) {
        OBL_CHECK(h >= 1 && w >= 1, "center_crop: size ", h, "x", w, " must be positive");
    }
    std::string name() const override {
        return "center_crop(" + std::to_string(h_) + "x" + std::to_string(w_) + ")";
    }
    Shape out_shape(const Shape& in) const override {
        chw(in, "center_crop");
        OBL_CHECK(in[1] >= h_ && in[2] >= w_, "center_crop: crop ", h_, "x", w_,
                  " is larger than the image ", in[1], "x", in[2], " (resize first)");
        return Shape{in[0], h_, w_};
    }
    void apply(const Image& in, Image& out, SampleRng&) const override {
        out_shape(Shape{in.c, in.h, in.w});
        const int64_t top = round_half_even(in.h - h_), left = round_half_even(in.w - w_);
        out.resize(in.c, h_, w_);
        for (int64_t c = 0; c < in.c; ++c)
            for (int64_t y = 0; y < h_; ++y)
                std::copy_n(&in.at(c, y + top, left), w_, &out.at(c, y, 0));
    }

   private:
    // round(d / 2) with ties to even, as Python's round(); std::nearbyint would depend on the
    // current rounding mode.
    static int64_t round_half_even(int64_t d) {
        if (d % 2 == 0) return d / 2;
        const int64_t lo = d / 2;  // d > 0 here: the tie lo + 0.5 goes to the even neighbour
        return lo % 2 == 0 ? lo : lo + 1;
    }
    int64_t h_, w_;
};

// ---- normalize
// -------------------------------------------------------------------------------------

class Normalize final : public Transform {
   public:
    Normalize(std::vector<float> mean, std::vector<float> std)
        : mean_(std::move(mean)), std_(std::move(std)) {
        OBL_CHECK(!mean_.empty() && mean_.size() == std_.size(), "normalize: ", mean_.size(),
                  " means and ", std_.size(), " stds (need one of each per channel)");
        for (size_t c = 0; c < std_.size(); ++c)
            OBL_CHECK(std_[c] > 0, "normalize: std[", c, "] = ", std_[c], " must be > 0");
    }
    std::string name() const override {
        std::ostringstream os;
        os << "normalize(mean";
        for (float m : mean_) os << " " << m;
        os << ", std";
        for (float s : std_) os << " " << s;
        os << ")";
        return os.str();
    }
    Shape out_shape(const Shape& in) const override {
        chw(in, "normalize");
        OBL_CHECK(in[0] == static_cast<int64_t>(mean_.size()), "normalize: ", mean_.size(),
                  " channel means for an image with ", in[0], " channels (shape ", in, ")");
        return in;
    }
    void apply(const Image& in, Image& out, SampleRng&) const override {
        out_shape(Shape{in.c, in.h, in.w});
        out.resize(in.c, in.h, in.w);
        const int64_t plane = in.h * in.w;
        for (int64_t c = 0; c < in.c; ++c) {
            const float m = mean_[static_cast<size_t>(c)], s = std_[static_cast<size_t>(c)];
            const float* src = in.v.data() + c * plane;
            float* dst = out.v.data() + c * plane;
            for (int64_t i = 0; i < plane; ++i) dst[i] = (src[i] - m) / s;
        }
    }

   private:
    std::vector<float> mean_, std_;
};

// ---- random rotation
// ------------------------------------------------------------------------------

class RandomRotation final : public Transform {
   public:
    explicit RandomRotation(double degrees) : degrees_(degrees) {
        OBL_CHECK(std::isfinite(degrees) && degrees >= 0 && degrees <= 180,
                  "random_rotation: max angle ", degrees, " degrees outside [0, 180]");
    }
    std::string name() const override {
        std::ostringstream os;
        os << "random_rotation(+-" << degrees_ << " deg)";
        return os.str();
    }
    Shape out_shape(const Shape& in) const override { return chw(in, "random_rotation"); }
    void apply(const Image& in, Image& out, SampleRng& rng) const override {
        // torchvision RandomRotation.get_params: uniform_(-d, d); always one draw.
        const double angle = -degrees_ + 2 * degrees_ * rng.uniform();
        rotate_image(in, out, angle);
    }

   private:
    double degrees_;
};

// A fresh large batch (38 MB for 64 images of 3x224x224) is an mmap that the copies below fault
// in 4 KB at a time; measured, the faults took half the time of a JPEG -> 224 batch. Where the
// kernel allows it (THP in "madvise" mode), ask for 2 MB pages instead. Only a hint.
void advise_huge_pages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr uintptr_t kHuge = uintptr_t(2) << 20;
    if (bytes < 2 * kHuge) return;
    const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
    const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

}  // namespace

void resize_image(const Image& in, Image& out, int64_t height, int64_t width, InterpMode mode) {
    OBL_CHECK(in.h >= 1 && in.w >= 1 && height >= 1 && width >= 1, "resize: cannot resize ", in.c,
              "x", in.h, "x", in.w, " to ", height, "x", width);
    const Taps tx = make_taps(in.w, width, mode);
    const Taps ty = make_taps(in.h, height, mode);
    // Pass 1 (rows): tmp (C, H_in, W_out). Pass 2 (columns): out (C, H_out, W_out).
    // Per-thread scratch: a fresh 100+ KB buffer per image would be an mmap and page faults.
    thread_local std::vector<float> tmp;
    tmp.resize(static_cast<size_t>(in.c * in.h * width));
    for (int64_t r = 0; r < in.c * in.h; ++r) {
        const float* src = in.v.data() + r * in.w;
        float* dst = tmp.data() + r * width;
        for (int64_t x = 0; x < width; ++x) {
            const int64_t* idx = &tx.index[static_cast<size_t>(x * tx.n)];
            const float* w = &tx.weight[static_cast<size_t>(x * tx.n)];
            float acc = src[idx[0]] * w[0];
            for (int k = 1; k < tx.n; ++k) acc += src[idx[k]] * w[k];
            dst[x] = acc;
        }
    }
    out.resize(in.c, height, width);
    for (int64_t c = 0; c < in.c; ++c) {
        const float* plane = tmp.data() + c * in.h * width;
        for (int64_t y = 0; y < height; ++y) {
            const int64_t* idx = &ty.index[static_cast<size_t>(y * ty.n)];
            const float* w = &ty.weight[static_cast<size_t>(y * ty.n)];
            float* dst = &out.at(c, y, 0);
            const float* r0 = plane + idx[0] * width;
            for (int64_t x = 0; x < width; ++x) dst[x] = r0[x] * w[0];
            for (int k = 1; k < ty.n; ++k) {
                const float* rk = plane + idx[k] * width;
                for (int64_t x = 0; x < width; ++x) dst[x] += rk[x] * w[k];
            }
        }
    }
}

void rotate_image(const Image& in, Image& out, double degrees) {
    constexpr double kPi = 3.14159265358979323846;
    const double a = degrees * kPi / 180.0;
    // PyTorch builds the grid in float: the affine matrix entries and centred coordinates are
    // float, so are the products here.
    const float cos_a = static_cast<float>(std::cos(a)), sin_a = static_cast<float>(std::sin(a));
    const float cx = 0.5f * static_cast<float>(in.w - 1), cy = 0.5f * static_cast<float>(in.h - 1);
    out.resize(in.c, in.h, in.w);
    for (int64_t y = 0; y < in.h; ++y) {
        const float v = static_cast<float>(y) - cy;
        for (int64_t x = 0; x < in.w; ++x) {
            const float u = static_cast<float>(x) - cx;
            const float sx = std::nearbyint(cos_a * u - sin_a * v + cx);
            const float sy = std::nearbyint(sin_a * u + cos_a * v + cy);
            const bool inside = sx >= 0 && sy >= 0 && sx <= static_cast<float>(in.w - 1) &&
                                sy <= static_cast<float>(in.h - 1);
            const int64_t ix = inside ? static_cast<int64_t>(sx) : 0;
            const int64_t iy = inside ? static_cast<int64_t>(sy) : 0;
            for (int64_t c = 0; c < in.c; ++c) out.at(c, y, x) = inside ? in.at(c, iy, ix) : 0.f;
        }
    }
}

TransformPtr random_crop(int64_t height, int64_t width, int64_t padding) {
    return std::make_shared<RandomCrop>(height, width, padding);
}
TransformPtr horizontal_flip(double p) { return std::make_shared<HorizontalFlip>(p); }
TransformPtr resize(int64_t height, int64_t width, InterpMode mode) {
    return std::make_shared<Resize>(height, width, mode);
}
TransformPtr center_crop(int64_t height, int64_t width) {
    return std::make_shared<CenterCrop>(height, width);
}
TransformPtr normalize(std::vector<float> mean, std::vector<float> std) {
    return std::make_shared<Normalize>(std::move(mean), std::move(std));
}
TransformPtr random_rotation(double degrees) { return std::make_shared<RandomRotation>(degrees); }

// ---- Compose -----------------------------------------------------------------------------------

Compose::Compose(std::vector<TransformPtr> transforms) : transforms_(std::move(transforms)) {
    for (size_t i = 0; i < transforms_.size(); ++i)
        OBL_CHECK(transforms_[i] != nullptr, "Compose: transform ", i, " is null");
}

std::string Compose::describe() const {
    std::string s = "to_float";
    for (const TransformPtr& t : transforms_) s += " -> " + t->name();
    return s;
}

Shape Compose::out_shape(const Shape& in) const {
    Shape s = chw(in, "Compose");
    for (const TransformPtr& t : transforms_) s = t->out_shape(s);
    return s;
}

void Compose::apply_one(const void* src, bool u8, int64_t c, int64_t h, int64_t w, SampleRng& rng,
                        Image& tmp, Image& out) const {
    out.resize(c, h, w);
    if (u8) {
        const uint8_t* p = static_cast<const uint8_t*>(src);
        for (size_t i = 0; i < out.v.size(); ++i) out.v[i] = static_cast<float>(p[i]) / 255.f;
    } else {
        std::memcpy(out.v.data(), src, out.v.size() * sizeof(float));
    }
    for (const TransformPtr& t : transforms_) {
        t->apply(out, tmp, rng);
        std::swap(out, tmp);
    }
}

Tensor Compose::apply(const Tensor& x, const std::vector<int64_t>& indices, uint64_t seed,
                      uint64_t epoch) const {
    OBL_CHECK(
        x.device().is_cpu() && x.dim() == 4 && (x.dtype() == DType::U8 || x.dtype() == DType::F32),
        "transforms: expect a CPU u8 or f32 batch (B, C, H, W), got ", x.describe());
    OBL_CHECK(static_cast<int64_t>(indices.size()) == x.size(0), "transforms: ", indices.size(),
              " sample indices for a batch of ", x.size(0));
    const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const Shape os = out_shape(Shape{c, h, w});
    Tensor y = Tensor::empty({b, os[0], os[1], os[2]}, DType::F32);
    advise_huge_pages(y.f32(), y.nbytes());
    const bool u8 = x.dtype() == DType::U8;
    const size_t in_bytes = static_cast<size_t>(c * h * w) * (u8 ? 1 : sizeof(float));
    const int64_t out_numel = os.numel();
    const char* src = static_cast<const char*>(x.raw());
    Image tmp, out;
    for (int64_t i = 0; i < b; ++i) {
        SampleRng rng(seed, epoch, static_cast<uint64_t>(indices[static_cast<size_t>(i)]));
        apply_one(src + static_cast<size_t>(i) * in_bytes, u8, c, h, w, rng, tmp, out);
        OBL_ASSERT(static_cast<int64_t>(out.v.size()) == out_numel);
        std::memcpy(y.f32() + i * out_numel, out.v.data(), out.v.size() * sizeof(float));
    }
    return y;
}

}  // namespace obl
