#pragma once
/// \file
/// The AVX2 + FMA SIMD target (8 float lanes): vector operations and the
/// quantized int8 GEMM micro-kernel. Defined only when the compiler targets
/// AVX2 and FMA (e.g. -mavx2 -mfma or -march=native on such a CPU).

#if defined(__AVX2__) && defined(__FMA__)
#define SFC_SIMD_HAS_AVX2 1

#include <cpuid.h>
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sfc/kernels/exact_divisor.hpp"
#include "sfc/kernels/static_for.hpp"

namespace sfc::simd {

struct Avx2 {
  static constexpr const char* name = "avx2";
  static constexpr int f32_lanes = 8;
  static constexpr int gemm_rows = 6;
  static constexpr int gemm_vectors = 2;
  /// Vector registers the kernels may plan for (ymm0-15).
  static constexpr int vector_registers = 16;

  using f32 = __m256;

  static bool supported() noexcept {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  /// AVX-VNNI: CPUID leaf 7, sub-leaf 1, EAX bit 4 (asked directly: Clang 14's
  /// __builtin_cpu_supports does not know the feature).
  static bool cpu_has_avx_vnni() noexcept {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0 && ((eax >> 4) & 1u) != 0;
  }

  /// The exact int8 kernels (`vpmaddwd`, or `vpdpwssd` with AVX-VNNI).
  static constexpr bool has_int8_kernels = true;
  static bool supports_int8() noexcept {
#if defined(__AVXVNNI__)
    return supported() && cpu_has_avx_vnni();
#else
    return supported();
#endif
  }

  static f32 zero() noexcept { return _mm256_setzero_ps(); }
  static f32 broadcast(float x) noexcept { return _mm256_set1_ps(x); }
  static f32 load(const float* p) noexcept { return _mm256_loadu_ps(p); }
  static void store(float* p, f32 a) noexcept { _mm256_storeu_ps(p, a); }
  static f32 add(f32 a, f32 b) noexcept { return _mm256_add_ps(a, b); }
  static f32 sub(f32 a, f32 b) noexcept { return _mm256_sub_ps(a, b); }
  static f32 mul(f32 a, f32 b) noexcept { return _mm256_mul_ps(a, b); }
  static f32 neg(f32 a) noexcept { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
  /// a * b + c, fused (one rounding).
  static f32 fmadd(f32 a, f32 b, f32 c) noexcept { return _mm256_fmadd_ps(a, b, c); }
  static f32 max(f32 a, f32 b) noexcept { return _mm256_max_ps(a, b); }
  /// v, through an empty asm statement: kept in a register (see
  /// kernels/gemm_f32.hpp).
  static f32 in_register(f32 v) noexcept {
    __asm__("" : "+x"(v));
    return v;
  }

  // Integers (int16 lanes, wrapping), for the data transform of the
  // quantized kernels.
  static constexpr int i16_lanes = 16;
  using i16 = __m256i;
  static i16 zero_i16() noexcept { return _mm256_setzero_si256(); }
  static i16 load_s8(const std::int8_t* p) noexcept {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static void store_i16(std::int16_t* p, i16 a) noexcept {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), a);
  }
  static i16 add_i16(i16 a, i16 b) noexcept { return _mm256_add_epi16(a, b); }
  static i16 sub_i16(i16 a, i16 b) noexcept { return _mm256_sub_epi16(a, b); }
  static i16 neg_i16(i16 a) noexcept { return _mm256_sub_epi16(_mm256_setzero_si256(), a); }
  static i16 mul_i16(std::int16_t c, i16 a) noexcept { return _mm256_mullo_epi16(_mm256_set1_epi16(c), a); }
  static i16 load_u8(const std::uint8_t* p) noexcept {
    return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }

  // int64 lanes, for the exact output transform. AVX2 has no 64-bit
  // multiply, arithmetic shift or max: they are built from 32-bit pieces,
  // all modulo 2^64 (exact for the values the exact kernels produce).
  static constexpr int i64_lanes = 4;
  static constexpr int s16_gemm_rows = 4;
  static constexpr int s16_panel = 16;
  using i64 = __m256i;
  static i64 zero_i64() noexcept { return _mm256_setzero_si256(); }
  static i64 load_i64(const std::int64_t* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static void store_i64(std::int64_t* p, i64 a) noexcept { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), a); }
  static i64 add_i64(i64 a, i64 b) noexcept { return _mm256_add_epi64(a, b); }
  static i64 sub_i64(i64 a, i64 b) noexcept { return _mm256_sub_epi64(a, b); }
  static i64 neg_i64(i64 a) noexcept { return _mm256_sub_epi64(_mm256_setzero_si256(), a); }
  /// a * b modulo 2^64, lane by lane.
  static i64 mullo_i64(i64 a, i64 b) noexcept {
    const __m256i lo = _mm256_mul_epu32(a, b);  // a_lo * b_lo
    const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b),
                                           _mm256_mul_epu32(a, _mm256_srli_epi64(b, 32)));
    return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
  }
  static i64 mul_i64(std::int64_t c, i64 a) noexcept {
    return mullo_i64(_mm256_set1_epi64x(static_cast<long long>(c)), a);
  }
  static i64 max_i64(i64 a, i64 b) noexcept { return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(b, a)); }
  static i64 load_i32_as_i64(const std::int32_t* p) noexcept {
    return _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  /// Stores the low 32 bits of every lane (the caller guarantees they fit).
  static void store_i64_as_i32(std::int32_t* p, i64 a) noexcept {
    const __m256i even = _mm256_permutevar8x32_epi32(a, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(even));
  }
  /// a / d for every lane, where every lane is a multiple of d: shift out the
  /// power of two (arithmetic shift from a logical one and the sign), then
  /// multiply by the inverse of the odd part modulo 2^64.
  static i64 exact_div_i64(i64 a, std::int64_t d) noexcept {
    const auto [shift, inverse] = kernels::exact_divisor<std::uint64_t>(d);
    if (shift > 0) {
      const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), a);
      a = _mm256_or_si256(_mm256_srli_epi64(a, shift), _mm256_slli_epi64(sign, 64 - shift));
    }
    return mullo_i64(a, _mm256_set1_epi64x(static_cast<long long>(inverse)));
  }

  // int32 lanes, for exact layers whose input channels split into groups
  // narrow enough that 2^s times each group's output fits int32 for every
  // input, s the power of two in the scale (ExactConv2d::
  // int32_product_channels): all arithmetic modulo 2^32, then an exact
  // division that recovers those outputs exactly.
  /// Most int32 groups per layer (ExactConv2d::max_int32_groups): int64
  /// lanes are emulated here, so two groups still beat them; four did not.
  static constexpr int i32_max_groups = 2;
  static constexpr int i32_lanes = 8;
  using i32 = __m256i;
  static i32 zero_i32() noexcept { return _mm256_setzero_si256(); }
  static i32 load_i32(const std::int32_t* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static void store_i32(std::int32_t* p, i32 a) noexcept { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), a); }
  /// As Avx512's (`vpmaddwd`, or `vpdpwssd` with AVX-VNNI).
  static i16 load_i16(const std::int16_t* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static i32 dot_pairs_i32(i32 acc, std::int32_t pair, i16 w) noexcept {
#if defined(__AVXVNNI__)
    return _mm256_dpwssd_avx_epi32(acc, _mm256_set1_epi32(pair), w);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_set1_epi32(pair), w));
#endif
  }
  static i32 add_i32(i32 a, i32 b) noexcept { return _mm256_add_epi32(a, b); }
  static i32 sub_i32(i32 a, i32 b) noexcept { return _mm256_sub_epi32(a, b); }
  static i32 neg_i32(i32 a) noexcept { return _mm256_sub_epi32(_mm256_setzero_si256(), a); }
  static i32 mul_i32(std::int32_t c, i32 a) noexcept { return _mm256_mullo_epi32(_mm256_set1_epi32(c), a); }
  static i32 max_i32(i32 a, i32 b) noexcept { return _mm256_max_epi32(a, b); }
  /// a / d for every lane, where every lane is a multiple of d modulo 2^32
  /// and the quotient times d's power of two fits int32: multiply by the
  /// inverse of the odd part modulo 2^32, then shift out the power of two.
  static i32 exact_div_i32(i32 a, std::int32_t d) noexcept {
    const auto [shift, inverse] = kernels::exact_divisor<std::uint32_t>(d);
    return _mm256_srai_epi32(_mm256_mullo_epi32(a, _mm256_set1_epi32(static_cast<std::int32_t>(inverse))),
                             shift);
  }

  /// The sums of both s16 blocks below: acc[m][v] = sum over `pairs` channel
  /// pairs of a[m][k] * panel[k][v * 8 + j], in wrapping int32 lanes.
  /// `vpmaddwd` (or `vpdpwssd` with AVX-VNNI) adds two int16 products into
  /// each int32 lane.
  template <int Rows>
  __attribute__((always_inline)) static void s16_sums(int pairs, const std::int16_t* a,
                                                      std::ptrdiff_t lda, const std::int16_t* panel,
                                                      __m256i (&acc)[Rows][2]) noexcept {
    kernels::static_for<Rows>([&](auto m) { acc[m][0] = acc[m][1] = _mm256_setzero_si256(); });
    for (int p = 0; p < pairs; ++p) {
      const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * 32));
      const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * 32 + 16));
      kernels::static_for<Rows>([&](auto m) {
        std::int32_t pair;
        std::memcpy(&pair, a + m * lda + 2 * p, sizeof pair);
        const __m256i x = _mm256_set1_epi32(pair);
#if defined(__AVXVNNI__)
        acc[m][0] = _mm256_dpwssd_avx_epi32(acc[m][0], x, b0);
        acc[m][1] = _mm256_dpwssd_avx_epi32(acc[m][1], x, b1);
#else
        acc[m][0] = _mm256_add_epi32(acc[m][0], _mm256_madd_epi16(x, b0));
        acc[m][1] = _mm256_add_epi32(acc[m][1], _mm256_madd_epi16(x, b1));
#endif
      });
    }
  }

  /// Micro-kernel `s16_gemm_<Rows>x16__avx2` (`__avxvnni`; see
  /// kernels/gemm_s16.hpp): c[m][j] (+)= the sums, widened to int64.
  template <int Rows>
  static void s16_block(int pairs, const std::int16_t* a, std::ptrdiff_t lda,
                        const std::int16_t* panel, std::int64_t* c, std::ptrdiff_t ldc,
                        bool accumulate) noexcept {
    __m256i acc[Rows][2];
    s16_sums<Rows>(pairs, a, lda, panel, acc);
    kernels::static_for<Rows>([&](auto m) {
      kernels::static_for<2>([&](auto v) {
        std::int64_t* out = c + m * ldc + v * 8;
        __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(acc[m][v]));
        __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(acc[m][v], 1));
        if (accumulate) {
          lo = _mm256_add_epi64(lo, load_i64(out));
          hi = _mm256_add_epi64(hi, load_i64(out + 4));
        }
        store_i64(out, lo);
        store_i64(out + 4, hi);
      });
    });
  }

  /// Micro-kernel `s16_gemm_i32_<Rows>x16__avx2`: c[m][j] = the sums (int32).
  template <int Rows>
  static void s16_block_i32(int pairs, const std::int16_t* a, std::ptrdiff_t lda,
                            const std::int16_t* panel, std::int32_t* c, std::ptrdiff_t ldc) noexcept {
    __m256i acc[Rows][2];
    s16_sums<Rows>(pairs, a, lda, panel, acc);
    kernels::static_for<Rows>([&](auto m) {
      store_i32(c + m * ldc, acc[m][0]);
      store_i32(c + m * ldc + 8, acc[m][1]);
    });
  }

  // The quantized (8-bit transform domain) kernels: see kernels/gemm_q8.hpp.
  // With AVX-VNNI, `vpdpbusd` multiplies unsigned data bytes (codes + 128)
  // by signed weight bytes. Without it, `vpmaddubsw` does, but it saturates
  // pairs of products at int16; multiplying |a| by sign(a) * b instead keeps
  // every pair within 2 * 128 * 127 < 2^15, since weight codes stay within
  // +-127.
  static constexpr bool has_q8_kernels = true;
  static bool supports_q8() noexcept {
#if defined(__AVXVNNI__)
    return supported() && cpu_has_avx_vnni();
#else
    return supported();
#endif
  }
  static constexpr int q8_gemm_rows = 4;
  static constexpr int q8_panel = 16;
#if defined(__AVXVNNI__)
  static constexpr int q8_data_offset = 128;
#else
  static constexpr int q8_data_offset = 0;
#endif

  /// Quantizes the transformed data v: code = clamp(round_half_even(float(v)
  /// * mult), lo, hi) + q8_data_offset, one byte per lane, into p.
  static void store_q8(std::int8_t* p, i16 v, float mult, std::int32_t lo, std::int32_t hi) noexcept {
    const __m256 m = _mm256_set1_ps(mult);
    const __m256i low = _mm256_set1_epi32(lo + q8_data_offset);
    const __m256i high = _mm256_set1_epi32(hi + q8_data_offset);
    const __m256i offset = _mm256_set1_epi32(q8_data_offset);
    __m256i q[2];
    kernels::static_for<2>([&](auto h) {
      const __m256i x = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(v, decltype(h)::value));
      q[h] = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(x), m)), offset);
      q[h] = _mm256_min_epi32(_mm256_max_epi32(q[h], low), high);
    });
    // Values are in [-128, 255]: pack to int16 (lane-interleaved), restore
    // the order, then keep the low byte of each.
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[0], q[1]), 0xD8);
    const __m256i bytes = _mm256_and_si256(words, _mm256_set1_epi16(0xFF));
    const __m128i packed =
        _mm_packus_epi16(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), packed);
  }

  /// int8 output: round_half_even(clamp(v, -128, 127)) per lane (NaN: -128).
  static void store_f32_as_s8(std::int8_t* p, f32 v) noexcept {
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-128.0f)), _mm256_set1_ps(127.0f));
    const __m256i q = _mm256_cvtps_epi32(v);
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(words, words));
  }

  /// Micro-kernel `q8_gemm_<Rows>x16__avx2` (`__avxvnni` with AVX-VNNI; see
  /// kernels/gemm_q8.hpp): c[m][j] = float(init[j] + sum of a[m][k] *
  /// panel[k][j]) * scale[j].
  template <int Rows>
  static void q8_block(int quads, const std::int8_t* a, std::ptrdiff_t lda,
                       const std::int8_t* panel, const std::int32_t* init, const float* scale,
                       float* c, std::ptrdiff_t ldc) noexcept {
    __m256i acc[Rows][2];
    const __m256i init0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init));
    const __m256i init1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init + 8));
    kernels::static_for<Rows>([&](auto m) {
      acc[m][0] = init0;
      acc[m][1] = init1;
    });
#if !defined(__AVXVNNI__)
    const __m256i ones = _mm256_set1_epi16(1);
#endif
    for (int k = 0; k < quads; ++k) {
      const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + k * 64));
      const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + k * 64 + 32));
      kernels::static_for<Rows>([&](auto m) {
        std::int32_t quad;
        std::memcpy(&quad, a + m * lda + 4 * k, sizeof quad);
        const __m256i x = _mm256_set1_epi32(quad);
#if defined(__AVXVNNI__)
        acc[m][0] = _mm256_dpbusd_avx_epi32(acc[m][0], x, b0);
        acc[m][1] = _mm256_dpbusd_avx_epi32(acc[m][1], x, b1);
#else
        const __m256i magnitude = _mm256_sign_epi8(x, x);
        const __m256i p0 = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(b0, x));
        const __m256i p1 = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(b1, x));
        acc[m][0] = _mm256_add_epi32(acc[m][0], _mm256_madd_epi16(p0, ones));
        acc[m][1] = _mm256_add_epi32(acc[m][1], _mm256_madd_epi16(p1, ones));
#endif
      });
    }
    const __m256 s0 = _mm256_loadu_ps(scale), s1 = _mm256_loadu_ps(scale + 8);
    kernels::static_for<Rows>([&](auto m) {
      _mm256_storeu_ps(c + m * ldc, _mm256_mul_ps(_mm256_cvtepi32_ps(acc[m][0]), s0));
      _mm256_storeu_ps(c + m * ldc + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(acc[m][1]), s1));
    });
  }
};

}  // namespace sfc::simd

#endif
