#pragma once
/// \file
/// The AVX-512 SIMD target (16 float lanes). Defined only when the compiler
/// targets AVX-512 F (e.g. -mavx512f or -march=native on such a CPU).

#if defined(__AVX512F__)
#define SFC_SIMD_HAS_AVX512 1

#include <immintrin.h>

#include <cstdint>

namespace sfc::simd {

struct Avx512 {
  static constexpr const char* name = "avx512";
  static constexpr int f32_lanes = 16;
  static constexpr int gemm_rows = 12;
  static constexpr int gemm_vectors = 2;

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
  using i16 = __m512i;
  using i64 = __m512i;

#if defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VNNI__)
  static constexpr bool has_int8_kernels = true;
  static i16 zero_i16() noexcept { return _mm512_setzero_si512(); }
  static i16 load_s8(const std::int8_t* p) noexcept {
    return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
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
    int shift = 0;
    while ((d & 1) == 0) {
      d >>= 1;
      ++shift;
    }
    std::uint64_t inverse = static_cast<std::uint64_t>(d);  // Newton: 3 -> 6 -> ... 96 bits
    for (int i = 0; i < 5; ++i) inverse *= 2 - static_cast<std::uint64_t>(d) * inverse;
    return _mm512_mullo_epi64(_mm512_mask_srai_epi64(a, 0xFF, a, static_cast<unsigned>(shift)),
                              _mm512_set1_epi64(static_cast<long long>(inverse)));
  }
#else
  static constexpr bool has_int8_kernels = false;
#endif
};

}  // namespace sfc::simd

#endif
