// Precompiled header of the unit tests (tests/CMakeLists.txt): GoogleTest,
// the whole library, and the evaluated transform tables of the paper's
// algorithms and Winograd F(2x2,3x3), F(4x4,3x3). Generating and proving a
// 2D algorithm's tables at compile time takes seconds of constant
// evaluation, and most test files use several algorithms: done once here,
// every test file that reuses this header saves it.
//
// Only the build uses this file; each test still includes what it uses.
#pragma once

#include <gtest/gtest.h>

#include "sfc/sfc.hpp"

namespace sfc_test_pch {

template <class Algorithm>
constexpr int evaluate_tables() {
  using Maps = sfc::kernels::TileMaps<sfc::algorithm_2d_t<Algorithm>>;
  return Maps::T + Maps::dx.nnz + Maps::dw.nnz + Maps::ox.nnz + Maps::forms.nnz + Maps::recon.nnz;
}

inline constexpr int kEvaluated =
    evaluate_tables<sfc::SFC<4, 4, 3>>() + evaluate_tables<sfc::SFC<6, 6, 3>>() +
    evaluate_tables<sfc::SFC<6, 7, 3>>() + evaluate_tables<sfc::SFC<6, 6, 5>>() +
    evaluate_tables<sfc::SFC<6, 4, 7>>() + evaluate_tables<sfc::Winograd<2, 3>>() +
    evaluate_tables<sfc::Winograd<4, 3>>();

}  // namespace sfc_test_pch
