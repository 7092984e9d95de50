#pragma once
/// \file
/// The AVX2 + FMA SIMD target (8 float lanes). Defined only when the compiler
/// targets AVX2 and FMA (e.g. -mavx2 -mfma or -march=native on such a CPU).

#if defined(__AVX2__) && defined(__FMA__)
#define SFC_SIMD_HAS_AVX2 1

#include <immintrin.h>

namespace sfc::simd {

struct Avx2 {
  static constexpr const char* name = "avx2";
  static constexpr int f32_lanes = 8;
  static constexpr int gemm_rows = 6;
  static constexpr int gemm_vectors = 2;

  using f32 = __m256;

  static bool supported() noexcept {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }

  /// The int8 kernels have no AVX2 implementation yet.
  static constexpr bool has_int8_kernels = false;
  static bool supports_int8() noexcept { return false; }

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
};

}  // namespace sfc::simd

#endif
