// The AMX target (kernels/simd/amx.hpp): the quantized GEMM on AMX tiles
// must give the same bits as the AVX-512 VNNI kernel (both sum exactly in
// int32 and dequantize alike), as a kernel and through the operator, and
// pass the quantized operator's sweep; with the tiles turned off it runs
// the VNNI kernel. Registered in native builds; its cases skip where the
// build has no AMX, or the CPU or system refuses the tiles
// (simd::Amx::tiles_enabled).

#include <gtest/gtest.h>
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "conv_quant_tester.hpp"
#include "sfc/kernels/gemm_q8.hpp"
#include "sfc/layers/conv2d_quantized.hpp"
#include "sfc/transforms/sfc.hpp"

namespace {

#if defined(SFC_SIMD_HAS_AMX)

using sfc::simd::Amx;
using sfc::simd::Avx512;

#define SKIP_WITHOUT_TILES() \
  if (!Amx::tiles_enabled()) GTEST_SKIP() << "AMX tiles are not available to this process"

static_assert(std::is_same_v<sfc::simd::NativeQuantized, Amx>,
              "a build with AMX quantizes on the AMX target by default");
static_assert(Amx::q8_panel == Avx512::q8_panel && Amx::q8_data_offset == Avx512::q8_data_offset,
              "the AMX GEMM reads the AVX-512 target's packed weights and data codes");

struct GemmCase {
  int rows, quads;
};

// q8_gemm on both targets, the same inputs: every float of C must match.
void expect_same_gemm(const GemmCase& g, std::mt19937& rng, bool extremes) {
  SCOPED_TRACE("rows " + std::to_string(g.rows) + " quads " + std::to_string(g.quads) +
               (extremes ? " extremes" : ""));
  constexpr int NR = Amx::q8_panel;
  const std::ptrdiff_t lda = 4 * g.quads + 20, ldc = NR + 8;
  std::vector<std::int8_t> a(static_cast<std::size_t>(g.rows * lda));
  std::vector<std::int8_t> panel(static_cast<std::size_t>(g.quads) * NR * 4);
  std::vector<std::int32_t> init(NR);
  std::vector<float> scale(NR);
  // Data codes are unsigned bytes (code + 128); weight codes within +-127.
  std::uniform_int_distribution<int> byte(0, 255), weight(-127, 127), offset(-100000, 100000);
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<std::int8_t>(extremes ? (i % 3 == 0 ? 0 : 255) : byte(rng));
  for (std::size_t i = 0; i < panel.size(); ++i)
    panel[i] = static_cast<std::int8_t>(extremes ? (i % 2 == 0 ? 127 : -127) : weight(rng));
  for (int j = 0; j < NR; ++j) {
    init[static_cast<std::size_t>(j)] = offset(rng);
    scale[static_cast<std::size_t>(j)] = std::ldexp(1.0f + static_cast<float>(j) / NR, -10 - j % 5);
  }
  std::vector<float> vnni(static_cast<std::size_t>(g.rows * ldc), -7.0f), amx = vnni;
  sfc::kernels::q8_gemm<Avx512>(g.rows, g.quads, a.data(), lda, panel.data(), init.data(),
                                scale.data(), vnni.data(), ldc);
  sfc::kernels::q8_gemm<Amx>(g.rows, g.quads, a.data(), lda, panel.data(), init.data(),
                             scale.data(), amx.data(), ldc);
  for (int m = 0; m < g.rows; ++m)
    for (int j = 0; j < ldc; ++j) {
      const std::size_t i = static_cast<std::size_t>(m * ldc + j);
      ASSERT_EQ(std::memcmp(&vnni[i], &amx[i], sizeof(float)), 0)
          << "row " << m << " column " << j << ": " << vnni[i] << " vs " << amx[i];
    }
}

// Row counts around the 16-row tiles, channel counts around the 64-channel
// step (quads = channels / 4), including tails the operator never makes.
TEST(Q8GemmAmx, SameBitsAsVnni) {
  SKIP_WITHOUT_TILES();
  std::mt19937 rng(7);
  for (const int rows : {1, 3, 15, 16, 17, 32, 36, 45})
    for (const int quads : {1, 5, 8, 15, 16, 17, 24, 32, 40, 64})
      for (const bool extremes : {false, true}) expect_same_gemm({rows, quads}, rng, extremes);
  // 4096 input channels of extreme codes: sums near 2^27.
  expect_same_gemm({20, 1024}, rng, true);
}

// Another tile configuration loaded between calls (as a library using AMX
// in the same thread would) must not change the results.
TEST(Q8GemmAmx, SurvivesAForeignTileConfiguration) {
  SKIP_WITHOUT_TILES();
  std::mt19937 rng(11);
  expect_same_gemm({16, 32}, rng, false);
  struct alignas(64) {
    std::uint8_t palette = 1, start_row = 0, reserved[14] = {};
    std::uint16_t bytes_per_row[16] = {8, 8, 8, 8, 8, 8, 8, 8};
    std::uint8_t rows[16] = {2, 2, 2, 2, 2, 2, 2, 2};
  } foreign;
  _tile_loadconfig(&foreign);
  expect_same_gemm({16, 32}, rng, false);
  _tile_release();
  expect_same_gemm({17, 24}, rng, false);
}

// The operator on both targets, same plan parameters: same output bits,
// float and int8, 1 and 2 threads. 96 channels leave a 32-channel step; 5
// images of 29x28 make 100 tiles of 7x7 (blocks not multiples of 16).
TEST(ConvQuantizedAmx, SameBitsAsVnni) {
  SKIP_WITHOUT_TILES();
  using Alg = sfc::SFC<6, 7, 3>;
  const sfc::Conv2dShape shape{.batch = 5,
                               .in_channels = 96,
                               .out_channels = 40,
                               .height = 29,
                               .width = 28,
                               .kernel_h = 3,
                               .kernel_w = 3,
                               .pad_top = 1,
                               .pad_bottom = 1,
                               .pad_left = 1,
                               .pad_right = 1};
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> code(-128, 127);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<std::int8_t> x(static_cast<std::size_t>(shape.input_elements()));
  std::vector<float> w(static_cast<std::size_t>(shape.weight_elements())), b(40);
  for (auto& v : x) v = static_cast<std::int8_t>(code(rng));
  for (auto& v : w) v = unit(rng);
  for (auto& v : b) v = unit(rng);
  sfc::QuantizationParams params;
  params.input_scale = 1.0f / 64;
  const sfc::ConvOptions options{.input_layout = sfc::Layout::NHWC,
                                 .output_layout = sfc::Layout::NCHW};
  const sfc::QuantizedConv2d<Alg, Avx512> vnni(shape, w, b, params, options);
  const sfc::QuantizedConv2d<Alg, Amx> amx(shape, w, b, params, options);
  const auto n = static_cast<std::size_t>(shape.output_elements());
  for (const int threads : {1, 2}) {
    std::vector<float> fv(n), fa(n, -1.0f);
    std::vector<std::int8_t> iv(n), ia(n, 99);
    vnni.run(x, fv, sfc::RunOptions{.threads = threads});
    amx.run(x, fa, sfc::RunOptions{.threads = threads});
    EXPECT_EQ(std::memcmp(fv.data(), fa.data(), n * sizeof(float)), 0) << threads << " threads";
    vnni.run(x, iv, 0.05f, sfc::RunOptions{.threads = threads});
    amx.run(x, ia, 0.05f, sfc::RunOptions{.threads = threads});
    EXPECT_EQ(iv, ia) << threads << " threads";
  }
}

// With the tiles turned off (as where the system refuses them), the AMX
// target runs the VNNI kernel: same bits again, and the tiles come back.
TEST(ConvQuantizedAmx, TilesTurnedOff) {
  SKIP_WITHOUT_TILES();
  std::mt19937 rng(5);
  Amx::use_tiles(false);
  EXPECT_FALSE(Amx::using_tiles());
  expect_same_gemm({36, 40}, rng, false);
  expect_same_gemm({16, 24}, rng, true);
  Amx::use_tiles(true);
  EXPECT_TRUE(Amx::using_tiles());
  expect_same_gemm({36, 40}, rng, false);
}

// The quantized operator's sweep (shapes, paddings, layouts, bias, ReLU,
// int8 output, threads) against its references, on the AMX target.
TEST(ConvQuantizedAmx, Sweep) {
  SKIP_WITHOUT_TILES();
  sfc::testing::sweep_quantized<sfc::SFC<6, 7, 3>, Amx>(/*quick=*/true);
}

#else

TEST(ConvQuantizedAmx, NotInThisBuild) {
  GTEST_SKIP() << "this build has no AMX target (compile with AMX-TILE and AMX-INT8, e.g. "
                  "-march=native on a CPU with AMX)";
}

#endif

}  // namespace
