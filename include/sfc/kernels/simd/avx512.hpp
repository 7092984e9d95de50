#pragma once
/// \file
/// The AVX-512 SIMD target (16 float lanes): vector operations and the int8
/// GEMM micro-kernels (VNNI). Defined only when the compiler targets
/// AVX-512 F (e.g. -mavx512f or -march=native on such a CPU); the integer
/// parts need AVX-512 BW, DQ and VNNI as well.

#if defined(__AVX512F__)
#define SFC_SIMD_HAS_AVX512 1

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sfc/kernels/exact_divisor.hpp"
#include "sfc/kernels/prefetch.hpp"
#include "sfc/kernels/static_for.hpp"

namespace sfc::simd {

struct Avx512 {
  static constexpr const char* name = "avx512";
  static constexpr int f32_lanes = 16;
  static constexpr int gemm_rows = 12;
  static constexpr int gemm_vectors = 2;
  /// Vector registers the kernels may plan for (zmm0-31).
  static constexpr int vector_registers = 32;

  using f32 = __m512;

  static bool supported() noexcept { return __builtin_cpu_supports("avx512f"); }
  /// Whether the CPU runs the int8 kernels (AVX-512 BW, DQ, VNNI).
  static bool supports_int8() noexcept {
    return supported() && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni");
  }

  static f32 zero() noexcept { return _mm512_setzero_ps(); }
  static f32 broadcast(float x) noexcept { return _mm512_set1_ps(x); }
  static f32 load(const float* p) noexcept { return _mm512_loadu_ps(p); }
  static void store(float* p, f32 a) noexcept { _mm512_storeu_ps(p, a); }
  static f32 add(f32 a, f32 b) noexcept { return _mm512_add_ps(a, b); }
  static f32 sub(f32 a, f32 b) noexcept { return _mm512_sub_ps(a, b); }
  static f32 mul(f32 a, f32 b) noexcept { return _mm512_mul_ps(a, b); }
  static f32 neg(f32 a) noexcept {
    return _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(static_cast<int>(0x80000000u))));
  }
  /// a * b + c, fused (one rounding).
  static f32 fmadd(f32 a, f32 b, f32 c) noexcept { return _mm512_fmadd_ps(a, b, c); }
  // The masked form with a full mask: _mm512_max_ps passes an undefined
  // vector that GCC 12 reports as maybe-uninitialized.
  static f32 max(f32 a, f32 b) noexcept { return _mm512_mask_max_ps(a, 0xFFFF, a, b); }

  // Integers, for the int8 kernels (need AVX-512 BW, DQ and VNNI; see
  // `has_int8_kernels`). int16 arithmetic wraps. Several intrinsics are
  // written in their masked form with a full mask: the plain forms pass an
  // undefined vector that GCC 12 reports as (maybe-)uninitialized.
  static constexpr int i16_lanes = 32;
  static constexpr int i64_lanes = 8;
  static constexpr int s16_gemm_rows = 12;
  static constexpr int s16_panel = 32;
  static constexpr int i32_lanes = 16;
  using i16 = __m512i;
  using i32 = __m512i;
  using i64 = __m512i;

#if defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VNNI__)
  static constexpr bool has_int8_kernels = true;
  static i16 zero_i16() noexcept { return _mm512_setzero_si512(); }
  static i16 load_s8(const std::int8_t* p) noexcept {
    return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static i16 load_u8(const std::uint8_t* p) noexcept {
    return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static void store_i16(std::int16_t* p, i16 a) noexcept { _mm512_storeu_si512(p, a); }
  static i16 add_i16(i16 a, i16 b) noexcept { return _mm512_add_epi16(a, b); }
  static i16 sub_i16(i16 a, i16 b) noexcept { return _mm512_sub_epi16(a, b); }
  static i16 neg_i16(i16 a) noexcept { return _mm512_sub_epi16(_mm512_setzero_si512(), a); }
  static i16 mul_i16(std::int16_t c, i16 a) noexcept { return _mm512_mullo_epi16(_mm512_set1_epi16(c), a); }

  static i64 zero_i64() noexcept { return _mm512_setzero_si512(); }
  static i64 load_i64(const std::int64_t* p) noexcept { return _mm512_loadu_si512(p); }
  static void store_i64(std::int64_t* p, i64 a) noexcept { _mm512_storeu_si512(p, a); }
  static i64 add_i64(i64 a, i64 b) noexcept { return _mm512_add_epi64(a, b); }
  static i64 sub_i64(i64 a, i64 b) noexcept { return _mm512_sub_epi64(a, b); }
  static i64 neg_i64(i64 a) noexcept { return _mm512_sub_epi64(_mm512_setzero_si512(), a); }
  static i64 mul_i64(std::int64_t c, i64 a) noexcept { return _mm512_mullo_epi64(_mm512_set1_epi64(c), a); }
  static i64 max_i64(i64 a, i64 b) noexcept { return _mm512_mask_max_epi64(a, 0xFF, a, b); }
  /// Sign-extends 8 int32 values to int64 lanes.
  static i64 widen_i32(__m256i a) noexcept {
    return _mm512_mask_cvtepi32_epi64(_mm512_setzero_si512(), 0xFF, a);
  }
  /// Half h (0: lanes 0-7, 1: lanes 8-15) of 16 int32 lanes.
  template <int h>
  static __m256i half_i32(__m512i a) noexcept {
    return _mm512_mask_extracti64x4_epi64(_mm256_setzero_si256(), 0xF, a, h);
  }
  static i64 load_i32_as_i64(const std::int32_t* p) noexcept {
    return widen_i32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  /// Stores the low 32 bits of every lane (the caller guarantees they fit).
  static void store_i64_as_i32(std::int32_t* p, i64 a) noexcept {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                        _mm512_mask_cvtepi64_epi32(_mm256_setzero_si256(), 0xFF, a));
  }
  /// a / d for every lane, where every lane is a multiple of d: shift out the
  /// power of two, then multiply by the inverse of the odd part modulo 2^64.
  static i64 exact_div_i64(i64 a, std::int64_t d) noexcept {
    const auto [shift, inverse] = kernels::exact_divisor<std::uint64_t>(d);
    return _mm512_mullo_epi64(_mm512_mask_srai_epi64(a, 0xFF, a, static_cast<unsigned>(shift)),
                              _mm512_set1_epi64(static_cast<long long>(inverse)));
  }

  /// v, through an empty asm statement the optimizer cannot see into.
  /// q8_block passes its accumulators through it after the loop: otherwise
  /// GCC 12's partial redundancy elimination keeps an int32-typed twin of
  /// every accumulator live across the loop (for the epilogue's conversion
  /// to float), 48 vectors for 32 registers, and the loop spills 24 of them
  /// to the stack each step. The micro-kernels also pass each step's weight
  /// vectors through it: with few rows GCC 12 folds their loads into every
  /// multiply (4 rows: 8 loads of the panel per step instead of 2), and the
  /// loads, not the multiplies, set the pace (q8, 4 rows, C = 256: 315 ->
  /// 450 GMAC/s).
  static __m512i opaque(__m512i v) noexcept {
    __asm__("" : "+v"(v));
    return v;
  }
  /// The float form of opaque (kernels/gemm_f32.hpp: a weight vector kept in
  /// a register).
  static f32 in_register(f32 v) noexcept {
    __asm__("" : "+v"(v));
    return v;
  }

  // int32 lanes, for exact layers whose input channels split into groups
  // narrow enough that 2^s times each group's output fits int32 for every
  // input, s the power of two in the scale (ExactConv2d::
  // int32_product_channels): all arithmetic modulo 2^32, then an exact
  // division that recovers those outputs exactly.
  /// Most int32 groups per layer (ExactConv2d::max_int32_groups): int64
  /// lanes are native here, and two int32 groups (products as wide as one
  /// int64 set, two output transforms) measured 15-30% slower than int64.
  static constexpr int i32_max_groups = 1;
  static i32 zero_i32() noexcept { return _mm512_setzero_si512(); }
  static i32 load_i32(const std::int32_t* p) noexcept { return _mm512_loadu_si512(p); }
  static void store_i32(std::int32_t* p, i32 a) noexcept { _mm512_storeu_si512(p, a); }
  /// int16 weights for the exact kernel that forms them on the fly
  /// (kernels/gemm_taps.hpp): i16_lanes values, and acc + in each int32
  /// lane j the two products w[2j] * x0 + w[2j + 1] * x1 (`vpdpwssd`,
  /// wrapping), where `pair` holds the bytes of the int16 values x0, x1 as
  /// they lie in memory (x0 the low half).
  static i16 load_i16(const std::int16_t* p) noexcept { return _mm512_loadu_si512(p); }
  static i32 dot_pairs_i32(i32 acc, std::int32_t pair, i16 w) noexcept {
    return _mm512_dpwssd_epi32(acc, _mm512_set1_epi32(pair), w);
  }
  static i32 add_i32(i32 a, i32 b) noexcept { return _mm512_add_epi32(a, b); }
  static i32 sub_i32(i32 a, i32 b) noexcept { return _mm512_sub_epi32(a, b); }
  static i32 neg_i32(i32 a) noexcept { return _mm512_sub_epi32(_mm512_setzero_si512(), a); }
  static i32 mul_i32(std::int32_t c, i32 a) noexcept { return _mm512_mullo_epi32(_mm512_set1_epi32(c), a); }
  static i32 max_i32(i32 a, i32 b) noexcept { return _mm512_mask_max_epi32(a, 0xFFFF, a, b); }
  /// a / d for every lane, where every lane is a multiple of d modulo 2^32
  /// and the quotient times d's power of two fits int32: multiply by the
  /// inverse of the odd part modulo 2^32, then shift out the power of two.
  static i32 exact_div_i32(i32 a, std::int32_t d) noexcept {
    const auto [shift, inverse] = kernels::exact_divisor<std::uint32_t>(d);
    const i32 q = _mm512_mullo_epi32(a, _mm512_set1_epi32(static_cast<std::int32_t>(inverse)));
    return _mm512_mask_srai_epi32(q, 0xFFFF, q, static_cast<unsigned>(shift));
  }

  /// int32 <-> float conversions (rounding to nearest even), in the masked
  /// forms GCC 12 does not flag.
  static __m512 to_f32(__m512i a) noexcept { return _mm512_mask_cvtepi32_ps(_mm512_setzero_ps(), 0xFFFF, a); }
  static __m512i to_i32(__m512 a) noexcept {
    return _mm512_mask_cvtps_epi32(_mm512_setzero_si512(), 0xFFFF, a);
  }

  /// The sums of both s16 blocks below: acc[m][v] = sum over `pairs` channel
  /// pairs of a[m][k] * panel[k][v * 16 + j], in wrapping int32 lanes;
  /// `vpdpwssd` adds two int16 products into each lane.
  template <int Rows>
  __attribute__((always_inline)) static void s16_sums(int pairs, const std::int16_t* a,
                                                      std::ptrdiff_t lda, const std::int16_t* panel,
                                                      __m512i (&acc)[Rows][2]) noexcept {
    kernels::static_for<Rows>([&](auto m) { acc[m][0] = acc[m][1] = _mm512_setzero_si512(); });
    for (int p = 0; p < pairs; ++p) {
      // 16 KiB ahead (4 KiB gained less, and lost with 4 rows): bench_gemm,
      // 132 slots x 256 x 256 weights from L3, 36 tiles 2.5 -> 1.5 ms.
      kernels::prefetch_ahead<16384>(panel + p * 64);
      const __m512i b0 = opaque(_mm512_loadu_si512(panel + p * 64));
      const __m512i b1 = opaque(_mm512_loadu_si512(panel + p * 64 + 32));
      kernels::static_for<Rows>([&](auto m) {
        std::int32_t pair;
        std::memcpy(&pair, a + m * lda + 2 * p, sizeof pair);
        const __m512i x = _mm512_set1_epi32(pair);
        acc[m][0] = _mm512_dpwssd_epi32(acc[m][0], x, b0);
        acc[m][1] = _mm512_dpwssd_epi32(acc[m][1], x, b1);
      });
    }
  }

  /// Micro-kernel `s16_gemm_<Rows>x32__avx512vnni` (see kernels/gemm_s16.hpp):
  /// c[m][j] (+)= the sums, widened to int64.
  template <int Rows>
  static void s16_block(int pairs, const std::int16_t* a, std::ptrdiff_t lda,
                        const std::int16_t* panel, std::int64_t* c, std::ptrdiff_t ldc,
                        bool accumulate) noexcept {
    __m512i acc[Rows][2];
    s16_sums<Rows>(pairs, a, lda, panel, acc);
    kernels::static_for<Rows>([&](auto m) {
      kernels::static_for<2>([&](auto v) {
        std::int64_t* out = c + m * ldc + v * 16;
        __m512i lo = widen_i32(half_i32<0>(acc[m][v]));
        __m512i hi = widen_i32(half_i32<1>(acc[m][v]));
        if (accumulate) {
          lo = _mm512_add_epi64(lo, _mm512_loadu_si512(out));
          hi = _mm512_add_epi64(hi, _mm512_loadu_si512(out + 8));
        }
        _mm512_storeu_si512(out, lo);
        _mm512_storeu_si512(out + 8, hi);
      });
    });
  }

  /// Micro-kernel `s16_gemm_i32_<Rows>x32__avx512vnni`: c[m][j] = the sums
  /// (int32).
  template <int Rows>
  static void s16_block_i32(int pairs, const std::int16_t* a, std::ptrdiff_t lda,
                            const std::int16_t* panel, std::int32_t* c, std::ptrdiff_t ldc) noexcept {
    __m512i acc[Rows][2];
    s16_sums<Rows>(pairs, a, lda, panel, acc);
    kernels::static_for<Rows>([&](auto m) {
      store_i32(c + m * ldc, acc[m][0]);
      store_i32(c + m * ldc + 16, acc[m][1]);
    });
  }

  // The quantized (8-bit transform domain) kernels: see kernels/gemm_q8.hpp.
  // `vpdpbusd` multiplies unsigned by signed bytes, so data codes are stored
  // with +128 added, and the GEMM starts from -128 * (column sums of B).
  static constexpr bool has_q8_kernels = true;
  static bool supports_q8() noexcept { return supports_int8(); }
  static constexpr int q8_gemm_rows = 12;
  static constexpr int q8_panel = 32;
  static constexpr int q8_data_offset = 128;

  /// Quantizes the transformed data v: code = clamp(round_half_even(float(v)
  /// * mult), lo, hi) + q8_data_offset, one byte per lane, into p. The
  /// caller keeps |float(v) * mult| inside int32 (QuantizedConv2d checks it
  /// at plan time).
  static void store_q8(std::int8_t* p, i16 v, float mult, std::int32_t lo, std::int32_t hi) noexcept {
    const __m512 m = _mm512_set1_ps(mult);
    if (lo == -128 && hi == 127) {
      // 8-bit codes: the saturating narrowing is the clamp, and adding the
      // offset (128) to a byte flips its top bit.
      kernels::static_for<2>([&](auto h) {
        const __m512i x = _mm512_mask_cvtepi16_epi32(_mm512_setzero_si512(), 0xFFFF,
                                                     half_i32<decltype(h)::value>(v));
        const __m128i q = _mm512_mask_cvtsepi32_epi8(_mm_setzero_si128(), 0xFFFF,
                                                     to_i32(_mm512_mul_ps(to_f32(x), m)));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 16 * h),
                         _mm_xor_si128(q, _mm_set1_epi8(static_cast<char>(0x80))));
      });
      return;
    }
    const __m512i low = _mm512_set1_epi32(lo + q8_data_offset);
    const __m512i high = _mm512_set1_epi32(hi + q8_data_offset);
    const __m512i offset = _mm512_set1_epi32(q8_data_offset);
    kernels::static_for<2>([&](auto h) {
      const __m512i x =
          _mm512_mask_cvtepi16_epi32(_mm512_setzero_si512(), 0xFFFF, half_i32<decltype(h)::value>(v));
      __m512i q = to_i32(_mm512_mul_ps(to_f32(x), m));
      q = _mm512_add_epi32(q, offset);
      q = _mm512_mask_max_epi32(q, 0xFFFF, q, low);
      q = _mm512_mask_min_epi32(q, 0xFFFF, q, high);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 16 * h),
                       _mm512_mask_cvtepi32_epi8(_mm_setzero_si128(), 0xFFFF, q));
    });
  }

  /// int8 output: round_half_even(clamp(v, -128, 127)) per lane (NaN: -128).
  static void store_f32_as_s8(std::int8_t* p, f32 v) noexcept {
    v = _mm512_mask_max_ps(v, 0xFFFF, v, _mm512_set1_ps(-128.0f));
    v = _mm512_mask_min_ps(v, 0xFFFF, v, _mm512_set1_ps(127.0f));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                     _mm512_mask_cvtepi32_epi8(_mm_setzero_si128(), 0xFFFF, to_i32(v)));
  }

  /// Micro-kernel `q8_gemm_<Rows>x32__avx512vnni` (see kernels/gemm_q8.hpp):
  /// c[m][j] = float(init[j] + sum of a[m][k] * panel[k][j]) * scale[j], a
  /// unsigned bytes, panel signed, `vpdpbusd` adding four products per lane.
  template <int Rows>
  static void q8_block(int quads, const std::int8_t* a, std::ptrdiff_t lda,
                       const std::int8_t* panel, const std::int32_t* init, const float* scale,
                       float* c, std::ptrdiff_t ldc) noexcept {
    __m512i acc[Rows][2];
    const __m512i init0 = _mm512_loadu_si512(init), init1 = _mm512_loadu_si512(init + 16);
    kernels::static_for<Rows>([&](auto m) {
      acc[m][0] = init0;
      acc[m][1] = init1;
    });
    for (int k = 0; k < quads; ++k) {
      // 4 KiB ahead (8 KiB the same, 16 KiB slower with 4 rows): bench_gemm,
      // 132 slots x 256 x 256 weights from L3, 36 tiles 0.77 -> 0.68 ms, 4
      // tiles 0.100 -> 0.086 ms.
      kernels::prefetch_ahead<4096>(panel + k * 128);
      const __m512i b0 = opaque(_mm512_loadu_si512(panel + k * 128));
      const __m512i b1 = opaque(_mm512_loadu_si512(panel + k * 128 + 64));
      kernels::static_for<Rows>([&](auto m) {
        std::int32_t quad;
        std::memcpy(&quad, a + m * lda + 4 * k, sizeof quad);
        const __m512i x = _mm512_set1_epi32(quad);
        acc[m][0] = _mm512_dpbusd_epi32(acc[m][0], x, b0);
        acc[m][1] = _mm512_dpbusd_epi32(acc[m][1], x, b1);
      });
    }
    kernels::static_for<Rows>([&](auto m) {
      acc[m][0] = opaque(acc[m][0]);
      acc[m][1] = opaque(acc[m][1]);
    });
    const __m512 s0 = _mm512_loadu_ps(scale), s1 = _mm512_loadu_ps(scale + 16);
    kernels::static_for<Rows>(
        [&](auto m) { store_dequantized(c + m * ldc, acc[m][0], acc[m][1], s0, s1); });
  }

  /// One row of a q8 block's output: float(sum) * scale for the 32 int32
  /// sums of a panel (init included), the dequantization every q8 kernel
  /// of this target (and the AMX one) ends with, so they agree to the bit.
  __attribute__((always_inline)) static void store_dequantized(float* c, __m512i sum0, __m512i sum1,
                                                               __m512 s0, __m512 s1) noexcept {
    _mm512_storeu_ps(c, _mm512_mul_ps(to_f32(sum0), s0));
    _mm512_storeu_ps(c + 16, _mm512_mul_ps(to_f32(sum1), s1));
  }
#else
  static constexpr bool has_int8_kernels = false;
  static constexpr bool has_q8_kernels = false;
#endif
};

}  // namespace sfc::simd

#endif
