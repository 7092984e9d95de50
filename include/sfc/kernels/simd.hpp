#pragma once
/// \file
/// SIMD targets and static dispatch. Each target is a tag type in its own
/// file under kernels/simd/ (`Portable`, `Avx2`, `Avx512`), providing a float
/// vector type with load/store/arithmetic and the GEMM register-block shape.
/// A target exists only when the compiler generates code for it; `Native` is
/// the widest one the build enables. Kernels and operators take the target as
/// a template parameter defaulting to `Native`, so a program (or a test) can
/// instantiate any compiled target explicitly; `supported()` says whether
/// the running CPU can execute it.
///
/// `NativeQuantized` is the target the quantized int8 operator uses by
/// default: `Amx` (the AVX-512 target with its quantized GEMM on AMX tiles,
/// kernels/simd/amx.hpp) where the build enables AMX, `Native` otherwise.
///
/// Define SFC_SIMD_FORCE_PORTABLE to make `Native` (and `NativeQuantized`)
/// the portable target even on a build with wider instructions.

#include <concepts>
#include <tuple>

#include "sfc/kernels/simd/amx.hpp"
#include "sfc/kernels/simd/avx2.hpp"
#include "sfc/kernels/simd/avx512.hpp"
#include "sfc/kernels/simd/portable.hpp"

namespace sfc::simd {

/// Every target compiled into this translation unit, widest last.
using CompiledTargets = std::tuple<Portable
#if defined(SFC_SIMD_HAS_AVX2)
                                   ,
                                   Avx2
#endif
#if defined(SFC_SIMD_HAS_AVX512)
                                   ,
                                   Avx512
#endif
                                   >;

#if defined(SFC_SIMD_FORCE_PORTABLE)
using Native = Portable;
using NativeQuantized = Portable;
#else
/// The widest compiled target.
using Native = std::tuple_element_t<std::tuple_size_v<CompiledTargets> - 1, CompiledTargets>;
#if defined(SFC_SIMD_HAS_AMX)
using NativeQuantized = Amx;
#else
using NativeQuantized = Native;
#endif
#endif

/// A SIMD target tag: a float vector type and its operations.
template <class S>
concept Target = requires(const float* p, float* q, typename S::f32 a) {
  { S::name } -> std::convertible_to<const char*>;
  { S::f32_lanes } -> std::convertible_to<int>;
  { S::load(p) } -> std::same_as<typename S::f32>;
  S::store(q, a);
  { S::fmadd(a, a, a) } -> std::same_as<typename S::f32>;
  { S::supported() } -> std::same_as<bool>;
};

static_assert(Target<Native>);

}  // namespace sfc::simd
