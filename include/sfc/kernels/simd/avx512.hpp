#pragma once
/// \file
/// The AVX-512 SIMD target (16 float lanes). Defined only when the compiler
/// targets AVX-512 F (e.g. -mavx512f or -march=native on such a CPU).

#if defined(__AVX512F__)
#define SFC_SIMD_HAS_AVX512 1

#include <immintrin.h>

namespace sfc::simd {

struct Avx512 {
  static constexpr const char* name = "avx512";
  static constexpr int f32_lanes = 16;
  static constexpr int gemm_rows = 12;
  static constexpr int gemm_vectors = 2;

  using f32 = __m512;

  static bool supported() noexcept { return __builtin_cpu_supports("avx512f"); }

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
};

}  // namespace sfc::simd

#endif
