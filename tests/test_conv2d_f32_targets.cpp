// fp32 convolution operator on the portable target (when it is not the
// native one; the AVX2 sweep and the nested 2D forms are in
// test_conv2d_f32_avx2.cpp, compiled in parallel with this file), and
// agreement between forms and targets. Also the transposition the
// operators stage NCHW data with (register transposes in AVX2 builds), the
// GEMM row blocking and the in-place output rule.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "conv_f32_tester.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/static_for.hpp"
#include "sfc/kernels/transpose.hpp"
#include "sfc/layers/tiling.hpp"
#include "sfc/transforms/sfc.hpp"

namespace {

using sfc::SFC;

// In a build whose native target is the portable one, the SweepNative tests
// already run this very instantiation in full; SFC_SKIP_PORTABLE_TARGET_TESTS
// leaves it out of a native build when such a build runs too (scripts/test.sh).
#if (defined(SFC_SIMD_HAS_AVX2) || defined(SFC_SIMD_HAS_AVX512)) && \
    !defined(SFC_TEST_SKIP_PORTABLE_TARGET)
TEST(ConvF32Targets, Portable) { sfc::testing::sweep_target_f32<sfc::simd::Portable>(); }
#endif

// AVX-512, when compiled, is the native target: the SweepNative tests of
// test_conv2d_f32_sfc3/sfc57/winograd run it in full.

// The symbolic and nested forms of one algorithm, and the portable and native
// targets, compute the same convolution: they agree to within float rounding.
TEST(ConvF32Targets, FormsAndTargetsAgree) {
  const auto shape = sfc::Conv2dShape::square(2, 19, 21, 15, 3, 1);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(shape.input_elements()));
  std::vector<float> w(static_cast<std::size_t>(shape.weight_elements()));
  for (float& v : x) v = dist(rng);
  for (float& v : w) v = dist(rng);
  const auto n = static_cast<std::size_t>(shape.output_elements());
  std::vector<float> symbolic(n), nested(n), portable(n);
  sfc::Conv2d<float, SFC<6, 7, 3>>(shape, w).run(x, symbolic);
  sfc::Conv2d<float, SFC<6, 7, 3>::nested_2d>(shape, w).run(x, nested);
  sfc::Conv2d<float, SFC<6, 7, 3>, sfc::simd::Portable>(shape, w).run(x, portable);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_NEAR(symbolic[i], nested[i], 1e-4) << i;
    ASSERT_NEAR(symbolic[i], portable[i], 1e-4) << i;
  }
}

template <class T>
void check_transposes() {
  // Every shape up to 2 x 8 + 3 in each direction: full 8 x 8 blocks, right
  // and bottom edges, empty blocks; strides wider than the block.
  for (std::int64_t rows = 0; rows <= 19; ++rows)
    for (std::int64_t cols = 0; cols <= 19; ++cols) {
      const std::ptrdiff_t src_stride = cols + 5, dst_stride = rows + 3;
      std::vector<T> src(static_cast<std::size_t>(rows * src_stride + 1));
      // Distinct values (int8: distinct within 127 elements).
      for (std::size_t i = 0; i < src.size(); ++i)
        src[i] = static_cast<T>(i % (sizeof(T) == 1 ? 127 : 30000) + 1);
      const T sentinel = static_cast<T>(-7);
      std::vector<T> dst(static_cast<std::size_t>(cols * dst_stride + 1), sentinel);
      sfc::kernels::transpose(src.data(), src_stride, dst.data(), dst_stride, rows, cols);
      for (std::int64_t j = 0; j < cols; ++j)
        for (std::ptrdiff_t i = 0; i < dst_stride; ++i) {
          const T got = dst[static_cast<std::size_t>(j * dst_stride + i)];
          const T want = i < rows ? src[static_cast<std::size_t>(i * src_stride + j)] : sentinel;
          ASSERT_EQ(got, want) << rows << " x " << cols << ", element (" << i << ", " << j << ")";
        }
      ASSERT_EQ(dst.back(), sentinel) << rows << " x " << cols << ": wrote past the block";
    }
}

TEST(Transpose, EveryShapeAndElementSize) {
  check_transposes<float>();
  check_transposes<std::int32_t>();
  check_transposes<std::int16_t>();
  check_transposes<std::int8_t>();
}

TEST(Transpose, MovesFloatBitsUnchanged) {
  // NaN payloads, signed zeros and denormals go through the AVX2 register
  // transposes as they are.
  std::vector<std::uint32_t> bits(64);
  for (std::size_t i = 0; i < bits.size(); ++i)
    bits[i] = 0x7FC00001u + static_cast<std::uint32_t>(i);
  bits[3] = 0x80000000u;
  bits[9] = 0x00000001u;
  std::vector<float> src(64), dst(64);
  std::memcpy(src.data(), bits.data(), 64 * sizeof(float));
  sfc::kernels::transpose(src.data(), 8, dst.data(), 8, 8, 8);
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      std::uint32_t got = 0;
      std::memcpy(&got, &dst[static_cast<std::size_t>(j * 8 + i)], sizeof got);
      ASSERT_EQ(got, bits[static_cast<std::size_t>(i * 8 + j)]) << i << ", " << j;
    }
}

template <int MR>
void check_row_blocks() {
  for (int rows = 0; rows <= 5 * MR + 1; ++rows) {
    std::vector<int> sizes;
    int next = 0;
    sfc::kernels::for_each_row_block<MR>(rows, [&](auto size, int m) {
      ASSERT_EQ(m, next) << rows << " rows: blocks must be consecutive";
      sizes.push_back(decltype(size)::value);
      next += decltype(size)::value;
    });
    ASSERT_EQ(next, rows) << rows << " rows must be covered exactly";
    ASSERT_EQ(static_cast<int>(sizes.size()), (rows + MR - 1) / MR)
        << rows << " rows: as few blocks as possible";
    for (const int size : sizes) {
      EXPECT_GE(size, 1);
      EXPECT_LE(size, MR);
      EXPECT_LE(size - sizes.back(), 1) << rows << " rows: sizes differ by at most one";
      EXPECT_GE(size, sizes.back());
    }
  }
}

TEST(RowBlocks, CoverEveryRowWithBalancedBlocks) {
  check_row_blocks<1>();
  check_row_blocks<4>();
  check_row_blocks<12>();
}

// The output transforms write straight into the caller's output only when
// the staged output would be an exact copy of it.
TEST(TileGeometry, WritesOutputInPlaceOnlyWhenStagingWouldCopy) {
  using sfc::Layout;
  const auto geometry = [](std::int64_t size, std::int64_t channels) {
    sfc::Conv2dShape s;
    s.batch = 2;
    s.in_channels = 8;
    s.out_channels = channels;
    s.height = s.width = size;
    s.kernel_h = s.kernel_w = 3;
    s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = 1;
    return sfc::detail::make_tile_geometry(
        "test", s, 7, 3, 132, sfc::detail::BlockingPolicy{.in_lanes = 16, .out_multiple = 32});
  };
  constexpr auto in_place =
      sfc::detail::writes_output_in_place<float, float, sfc::detail::KeepValue>;
  EXPECT_TRUE(in_place(geometry(28, 64), Layout::NHWC));
  EXPECT_FALSE(in_place(geometry(28, 64), Layout::NCHW));
  EXPECT_FALSE(in_place(geometry(27, 64), Layout::NHWC));  // partial tiles
  EXPECT_FALSE(in_place(geometry(28, 40), Layout::NHWC));  // padded channels
  // A conversion (requantization) or another staged type always stages.
  const auto convert = [](float v, std::int64_t) { return v; };
  EXPECT_FALSE((sfc::detail::writes_output_in_place<float, float, decltype(convert)>(
      geometry(28, 64), Layout::NHWC)));
  EXPECT_FALSE(
      (sfc::detail::writes_output_in_place<std::int32_t, std::int8_t, sfc::detail::KeepValue>(
          geometry(28, 64), Layout::NHWC)));
}

// The cached-block budget shrinks a block of fp32 SFC-6(7x7) tiles (132 x C
// x 4 bytes of data and as many of products per tile) only where the
// transformed weights are small enough to stream once more per block.
TEST(TileGeometry, CachedBlockBudgetBindsOnlyWhereTheWeightsAreSmall) {
  const auto tiles_per_block = [](std::int64_t channels, std::int64_t size,
                                  std::int64_t cached_bytes) {
    sfc::Conv2dShape s;
    s.batch = 8;
    s.in_channels = s.out_channels = channels;
    s.height = s.width = size;
    s.kernel_h = s.kernel_w = 3;
    s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = 1;
    return sfc::detail::make_tile_geometry("test", s, 7, 3, 132,
                                           sfc::detail::BlockingPolicy{
                                               .in_lanes = 16,
                                               .out_multiple = 32,
                                               .gemm_rows = 12,
                                               .cached_block_bytes = cached_bytes,
                                               .weight_bytes = 4,
                                           })
        .tiles_per_block;
  };
  constexpr std::int64_t budget = std::int64_t{7} << 20;
  // C = 256: 270 KB per tile, 27 tiles fit 7 MiB: 24 (whole register
  // blocks) instead of the 32 tiles of 8 images; weights 34.6 MB.
  EXPECT_EQ(tiles_per_block(256, 14, 0), 32);
  EXPECT_EQ(tiles_per_block(256, 14, budget), 24);
  // C = 128: 54 tiles fit; max_tiles_per_block (36) binds first.
  EXPECT_EQ(tiles_per_block(128, 28, budget), 36);
  // C = 512: 138 MB of weights (more than 8 x the budget): the block keeps
  // max_tiles_per_block tiles, where the budget (12) would stream the
  // weights three times as often.
  EXPECT_EQ(tiles_per_block(512, 28, budget), 36);
  // Never fewer tiles than one register block (C = 64: 68 KB per tile,
  // 2.2 MB of weights, a budget of 4 tiles).
  EXPECT_EQ(tiles_per_block(64, 56, 300000), 12);
}

}  // namespace
