#pragma once
/// \file
/// The element-wise stage of frequency-wise quantized fast convolution: per
/// transform slot, C[tiles x Cout] (float) = dequantized(A[tiles x Cin] *
/// B[Cin x Cout]), A and B 8-bit codes, products summed exactly in int32.
///
///   C[m][j] = float(init[j] + sum_k A[m][k] * B[k][j]) * scale[j]
///
/// `init` carries what the target's data encoding needs: targets whose
/// instruction multiplies unsigned by signed bytes (`vpdpbusd`) store data
/// codes plus S::q8_data_offset (128), so init[j] = -offset * sum_k B[k][j];
/// `scale[j]` is the slot's data scale times output channel j's weight scale.
/// The sums are exact: |A| <= 255 and |B| <= 127 over at most
/// kMaxQ8Channels channels stay inside int32.
///
/// B is packed once into panels of S::q8_panel output channels, input
/// channels in quads: panel p holds B[4k + e][j] at p * K * NR + k * 4 * NR +
/// 4 * j + e (K, the padded Cin, is a multiple of 4; zero beyond Cin and
/// Cout). A rows hold K bytes (data codes, zero code beyond Cin).
///
/// The micro-kernels live with their ISA (kernels/simd/<isa>.hpp):
/// `S::q8_block<Rows>` computes a Rows x S::q8_panel block of C; the AMX
/// target's `S::q8_gemm` the whole product on its tiles.

#include <cstddef>
#include <cstdint>

#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/static_for.hpp"

namespace sfc::kernels {

/// Input channels the int32 sums of q8_gemm hold in the worst case:
/// 32768 * (255 * 127 + 128 * 127) < 2^31 (data codes with offset up to 255,
/// weight codes within +-127, plus the offset compensation in init).
inline constexpr std::int64_t kMaxQ8Channels = 32768;

/// C = dequantized A * B for one slot and one panel: `rows` rows of A
/// (stride lda, 4 * quads bytes each), packed panel (quads x NR x 4), init
/// and scale NR values each, C float with stride ldc.
/// Targets with a whole-GEMM kernel of their own (S::q8_gemm, the AMX
/// target) run it; the others run register blocks of S::q8_block.
template <class S>
void q8_gemm(int rows, int quads, const std::int8_t* a, std::ptrdiff_t lda,
             const std::int8_t* panel, const std::int32_t* init, const float* scale, float* c,
             std::ptrdiff_t ldc) {
  if constexpr (requires { S::q8_gemm(rows, quads, a, lda, panel, init, scale, c, ldc); }) {
    S::q8_gemm(rows, quads, a, lda, panel, init, scale, c, ldc);
  } else {
    for_each_row_block<S::q8_gemm_rows>(rows, [&](auto block_rows, int m) {
      S::template q8_block<decltype(block_rows)::value>(quads, a + m * lda, lda, panel, init, scale,
                                                        c + m * ldc, ldc);
    });
  }
}

}  // namespace sfc::kernels
