// Philox normal study v2 (per block): one Philox call per block of 4 elements, one Box-Muller per
// pair of them (r cos t and r sin t share r = sqrt(-2 ln u_a) and t = 2 pi u_b). Same numbers as
// v1, a quarter of the Philox work and half of the log/sqrt work. The first and last blocks may
// be cut by offset and n, so the loop writes only the elements inside [0, n).
#include "kernels/common/philox.h"
#include "kernels/study/philox_normal/philox_normal_study.h"

namespace obl::kernels::study {

void philox_normal_v2(float* y, RandomDims d) {
    if (d.n <= 0) return;
    const uint64_t first = d.offset, end = d.offset + static_cast<uint64_t>(d.n);
    for (uint64_t block = first / 4; block * 4 < end; ++block) {
        const Philox4 x = philox_block(block, d.seed);
        double z[4];
        philox_box_muller(x.w[0], x.w[1], &z[0], &z[1]);
        philox_box_muller(x.w[2], x.w[3], &z[2], &z[3]);
        for (uint64_t w = 0; w < 4; ++w) {
            const uint64_t e = block * 4 + w;
            if (e >= first && e < end) y[e - first] = static_cast<float>(z[w]);
        }
    }
}

}  // namespace obl::kernels::study
