// NEON (aarch64) path of a 256-entry tone curve (apply_table.cpp is the reference; simd_neon.h says
// how every path stays bit-identical to it).
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

// out = table[in] by four 64-entry lookups: vqtbl4q_u8 on in, then vqtbx4q_u8 (which keeps the
// previous byte where the index is >= 64) on in - 64, in - 128, in - 192 (wrapping: each is
// below 64 exactly for the bytes of its quarter).


struct TableQuarters {
    uint8x16x4_t q[4];
    explicit TableQuarters(const std::uint8_t* table) {
        for (int k = 0; k < 4; ++k)
            for (int j = 0; j < 4; ++j) q[k].val[j] = vld1q_u8(table + 64 * k + 16 * j);
    }
    uint8x16_t lookup(uint8x16_t x) const {
        const uint8x16_t step = vdupq_n_u8(64);
        uint8x16_t r = vqtbl4q_u8(q[0], x);
        x = vsubq_u8(x, step);
        r = vqtbx4q_u8(r, q[1], x);
        x = vsubq_u8(x, step);
        r = vqtbx4q_u8(r, q[2], x);
        x = vsubq_u8(x, step);
        return vqtbx4q_u8(r, q[3], x);
    }
};

}  // namespace

void apply_table_neon(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                      std::uint8_t* out) {
    std::size_t i = 0;
    if (count >= 16) {
        const TableQuarters quarters(table);
        // Two vectors per step for independent chains; each block is read before it is written,
        // so in == out works.
        for (; i + 32 <= count; i += 32) {
            const uint8x16_t r0 = quarters.lookup(vld1q_u8(in + i));
            const uint8x16_t r1 = quarters.lookup(vld1q_u8(in + i + 16));
            vst1q_u8(out + i, r0);
            vst1q_u8(out + i + 16, r1);
        }
        for (; i + 16 <= count; i += 16) vst1q_u8(out + i, quarters.lookup(vld1q_u8(in + i)));
    }
    if (i < count) apply_table_scalar(in + i, count - i, table, out + i);
}

}  // namespace facekit::kernels
