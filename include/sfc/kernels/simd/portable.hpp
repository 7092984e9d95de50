#pragma once
/// \file
/// The portable SIMD target: fixed-width float vectors as plain arrays whose
/// element-wise loops the compiler may vectorize for whatever the build
/// targets. Always available; the reference point every other target must
/// agree with.

#include <algorithm>
#include <cstring>

namespace sfc::simd {

/// Portable target. Lanes are plain floats; `fmadd` is a multiply followed by
/// an add (two roundings), so results may differ from the fused targets in
/// the last bit.
struct Portable {
  static constexpr const char* name = "portable";
  static constexpr int f32_lanes = 8;
  /// GEMM register block: rows x vectors of output columns.
  static constexpr int gemm_rows = 4;
  static constexpr int gemm_vectors = 2;

  struct f32 {
    float v[f32_lanes];
  };

  static bool supported() noexcept { return true; }

  static f32 zero() noexcept { return f32{}; }
  static f32 broadcast(float x) noexcept {
    f32 r;
    for (float& e : r.v) e = x;
    return r;
  }
  static f32 load(const float* p) noexcept {
    f32 r;
    std::memcpy(r.v, p, sizeof r.v);
    return r;
  }
  static void store(float* p, const f32& a) noexcept { std::memcpy(p, a.v, sizeof a.v); }

  static f32 add(const f32& a, const f32& b) noexcept {
    f32 r;
    for (int i = 0; i < f32_lanes; ++i) r.v[i] = a.v[i] + b.v[i];
    return r;
  }
  static f32 sub(const f32& a, const f32& b) noexcept {
    f32 r;
    for (int i = 0; i < f32_lanes; ++i) r.v[i] = a.v[i] - b.v[i];
    return r;
  }
  static f32 mul(const f32& a, const f32& b) noexcept {
    f32 r;
    for (int i = 0; i < f32_lanes; ++i) r.v[i] = a.v[i] * b.v[i];
    return r;
  }
  static f32 neg(const f32& a) noexcept {
    f32 r;
    for (int i = 0; i < f32_lanes; ++i) r.v[i] = -a.v[i];
    return r;
  }
  /// a * b + c.
  static f32 fmadd(const f32& a, const f32& b, const f32& c) noexcept {
    f32 r;
    for (int i = 0; i < f32_lanes; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i];
    return r;
  }
  static f32 max(const f32& a, const f32& b) noexcept {
    f32 r;
    for (int i = 0; i < f32_lanes; ++i) r.v[i] = std::max(a.v[i], b.v[i]);
    return r;
  }
};

}  // namespace sfc::simd
