#pragma once
/// \file
/// Cost of a model's convolutions per image (sfc::quant::LayerCost: the
/// multiplications, additions and BOPs of include/sfc/quantization/
/// metrics.hpp), layer by layer and in total, for direct convolution or for
/// a fast 3x3 algorithm with the backends' choice for the other kernel
/// sizes: 5x5 -> SFC-6(6x6,5x5), 7x7 -> SFC-6(4x4,7x7), anything else direct
/// (as sfc_float_backend() and quantized_backend() run them).

#include <optional>
#include <vector>

#include "backends.hpp"
#include "model.hpp"
#include "network.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/quantization/metrics.hpp"
#include "sfc/transforms/sfc.hpp"

namespace sfc::examples {

/// The shape (batch 1) of each conv op, in graph order.
inline std::vector<sfc::Conv2dShape> conv_shapes(const Model& model) {
  std::vector<sfc::Conv2dShape> shapes;
  for (const Op& op : model.ops)
    if (op.kind == OpKind::conv) shapes.push_back(conv_layer(model, op).shape(1));
  return shapes;
}

/// One layer's cost: direct when `alg3x3` is empty.
inline sfc::quant::LayerCost layer_cost(const sfc::Conv2dShape& shape, std::optional<Float3x3> alg3x3,
                                        const sfc::quant::BitWidths& bits) {
  if (!alg3x3) return sfc::quant::direct_cost(shape, bits);
  switch (shape.kernel_h) {
    case 3:
      return visit_float3x3(*alg3x3, [&](auto tag) {
        return sfc::quant::fast_cost<typename decltype(tag)::type>(shape, bits);
      });
    case 5:
      return sfc::quant::fast_cost<sfc::SFC<6, 6, 5>>(shape, bits);
    case 7:
      return sfc::quant::fast_cost<sfc::SFC<6, 4, 7>>(shape, bits);
    default:
      return sfc::quant::direct_cost(shape, bits);
  }
}

/// The model's cost per image: the sum over its conv layers.
inline sfc::quant::LayerCost model_cost(const Model& model, std::optional<Float3x3> alg3x3,
                                        const sfc::quant::BitWidths& bits) {
  sfc::quant::LayerCost total;
  for (const sfc::Conv2dShape& s : conv_shapes(model)) total += layer_cost(s, alg3x3, bits);
  return total;
}

}  // namespace sfc::examples
