#pragma once
/// \file
/// Cost of a convolution layer: operation counts and BOPs (bit operations,
/// the SFC paper's cost metric: an addition of b-bit values costs b, a
/// multiplication of a-bit by b-bit values costs a * b), for direct
/// convolution and for any fast algorithm type (SFC or Winograd) run tile
/// by tile as the operators do (partial tiles at the borders count whole).
///
/// Counted per layer evaluation (weights are transformed once, offline, and
/// are not counted):
/// - element-wise multiplications (data bits x weight bits), and the
///   additions that accumulate them over input channels (accumulator bits);
/// - fast algorithms: the data transform's additions and multiplications by
///   coefficients other than +-1 (transform bits: int16 holds every SFC
///   data transform of int8; SFC has none of the latter, Winograd does), the
///   output transform's additions and scalings (accumulator bits). A
///   multiplication by a constant costs its operand's bits times the
///   constant's (BitWidths::coefficient, 8 by default: the transforms'
///   constants are small fractions and integers).
/// Direct convolution: Cin R^2 multiplications and Cin R^2 - 1 additions per
/// output. Bias and activation are the same for every method and are left
/// out.

#include <cstdint>
#include <string>

#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/kernels/tile_transform.hpp"
#include "sfc/layers/conv2d.hpp"
#include "sfc/layers/tiling.hpp"

namespace sfc::quant {

/// Bit widths of the operands.
struct BitWidths {
  int data = 8;          ///< element-wise multiplication: data operand
  int weight = 8;        ///< element-wise multiplication: weight operand
  int transform = 16;    ///< data transform additions
  int accumulator = 32;  ///< accumulation and output transform
  int coefficient = 8;   ///< constants of the transforms other than +-1 (fixed point)
};

/// Operation counts and BOPs of one layer (or a sum of layers).
struct LayerCost {
  std::int64_t multiplications = 0;           ///< element-wise (or direct) multiplications
  std::int64_t accumulations = 0;             ///< additions summing them
  std::int64_t data_transform_additions = 0;  ///< fast algorithms only
  std::int64_t data_transform_scalings = 0;   ///< multiplications by constants other than +-1
  std::int64_t output_transform_additions = 0;
  std::int64_t output_transform_scalings = 0;  ///< multiplications by constants other than +-1
  double bops = 0;

  LayerCost& operator+=(const LayerCost& o) noexcept {
    multiplications += o.multiplications;
    accumulations += o.accumulations;
    data_transform_additions += o.data_transform_additions;
    data_transform_scalings += o.data_transform_scalings;
    output_transform_additions += o.output_transform_additions;
    output_transform_scalings += o.output_transform_scalings;
    bops += o.bops;
    return *this;
  }
};

namespace detail {

inline void check_bits(const BitWidths& b) {
  for (const int v : {b.data, b.weight, b.transform, b.accumulator, b.coefficient})
    if (v < 1 || v > 64) throw Error("sfc::quant: bit widths must be in [1, 64]");
}

inline double bops_of(const LayerCost& c, const BitWidths& b) {
  const double acc = b.accumulator;
  return static_cast<double>(c.multiplications) * b.data * b.weight + static_cast<double>(c.accumulations) * acc +
         static_cast<double>(c.data_transform_additions) * b.transform +
         static_cast<double>(c.data_transform_scalings) * b.transform * b.coefficient +
         static_cast<double>(c.output_transform_additions) * acc +
         static_cast<double>(c.output_transform_scalings) * acc * b.coefficient;
}

/// Additions (nonzeros beyond the first of each row) and non-unit
/// coefficients of a sparse map.
template <class Map>
constexpr std::int64_t additions_of(const Map& map) {
  std::int64_t n = 0;
  for (int r = 0; r < Map::rows; ++r) {
    const int k = map.begin[static_cast<std::size_t>(r) + 1] - map.begin[static_cast<std::size_t>(r)];
    if (k > 1) n += k - 1;
  }
  return n;
}
template <class Map>
constexpr std::int64_t scalings_of(const Map& map) {
  std::int64_t n = 0;
  for (int i = 0; i < Map::nnz; ++i) {
    const double v = map.value[static_cast<std::size_t>(i)];
    n += v != 1.0 && v != -1.0;
  }
  return n;
}

}  // namespace detail

/// Direct convolution.
inline LayerCost direct_cost(const Conv2dShape& shape, const BitWidths& bits = {}) {
  throw_if_error(shape.validate(), "sfc::quant::direct_cost");
  detail::check_bits(bits);
  LayerCost c;
  const std::int64_t outputs = shape.output_elements();
  const std::int64_t per_output = mul_or_throw(shape.in_channels, shape.kernel_h * shape.kernel_w);
  c.multiplications = mul_or_throw(outputs, per_output);
  c.accumulations = mul_or_throw(outputs, per_output - 1);
  c.bops = detail::bops_of(c, bits);
  return c;
}

/// A fast algorithm (sfc::SFC<N, M, R>, sfc::Winograd<M, R>, or a 2D form).
template <class Algorithm>
LayerCost fast_cost(const Conv2dShape& shape, const BitWidths& bits = {}) {
  using A2 = algorithm_2d_t<Algorithm>;
  using Maps = kernels::TileMaps<A2>;
  constexpr const char* who = "sfc::quant::fast_cost";
  throw_if_error(shape.validate(), who);
  sfc::detail::check_kernel(who, shape, A2::R);
  detail::check_bits(bits);
  constexpr int K = Maps::K, L = Maps::L, M = Maps::M, T = Maps::T;
  // Per tile and channel, in the operators' order (kernels/tile_transform.hpp).
  constexpr std::int64_t data_adds =
      (L + K) * detail::additions_of(Maps::dx) + detail::additions_of(Maps::forms);
  constexpr std::int64_t data_scalings = (L + K) * detail::scalings_of(Maps::dx) + detail::scalings_of(Maps::forms);
  constexpr std::int64_t output_adds = detail::additions_of(Maps::recon) + (K + M) * detail::additions_of(Maps::ox);
  constexpr std::int64_t output_scalings =
      detail::scalings_of(Maps::recon) + (K + M) * detail::scalings_of(Maps::ox);
  const std::int64_t tiles =
      product_or_throw({shape.batch, sfc::detail::ceil_div(shape.output_height(), M),
                        sfc::detail::ceil_div(shape.output_width(), M)});
  const std::int64_t Cin = shape.in_channels, Cout = shape.out_channels;
  LayerCost c;
  c.multiplications = product_or_throw({tiles, T, Cin, Cout});
  c.accumulations = product_or_throw({tiles, T, Cin - 1, Cout});
  c.data_transform_additions = product_or_throw({tiles, Cin, data_adds});
  c.data_transform_scalings = product_or_throw({tiles, Cin, data_scalings});
  c.output_transform_additions = product_or_throw({tiles, Cout, output_adds});
  c.output_transform_scalings = product_or_throw({tiles, Cout, output_scalings});
  c.bops = detail::bops_of(c, bits);
  return c;
}

}  // namespace sfc::quant
