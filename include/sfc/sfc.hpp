#pragma once
// SFC: Symbolic Fourier Convolution, header-only.
//
// The umbrella header. The folders tell the story, each layer depending only
// on the ones before it:
//   sfc/algebra/     exact constexpr rationals, matrices, polynomials, cyclotomics
//   sfc/transforms/  generators: SFC<N, M, R>, Winograd<M, R>, 2D forms, proofs
//   sfc/core/        shapes, layouts, errors shared by the operators
//   sfc/reference/   always-correct direct convolution and tile-by-tile evaluator
//   sfc/kernels/     SIMD targets and micro-kernels, generated tile transforms
//   sfc/layers/      operators: fp32, exact int8/uint8, frequency-wise quantized

#include "sfc/version.hpp"

#include "sfc/algebra/cyclotomic.hpp"
#include "sfc/algebra/matrix.hpp"
#include "sfc/algebra/polynomial.hpp"
#include "sfc/algebra/rational.hpp"

#include "sfc/transforms/bilinear.hpp"
#include "sfc/transforms/cyclic.hpp"
#include "sfc/transforms/form2d.hpp"
#include "sfc/transforms/proof.hpp"
#include "sfc/transforms/sfc.hpp"
#include "sfc/transforms/winograd.hpp"

#include "sfc/core/aligned_buffer.hpp"
#include "sfc/core/buffers.hpp"
#include "sfc/core/checked.hpp"
#include "sfc/core/conv_shape.hpp"
#include "sfc/core/error.hpp"
#include "sfc/core/parallel.hpp"

#include "sfc/kernels/gemm_f32.hpp"
#include "sfc/kernels/gemm_q8.hpp"
#include "sfc/kernels/gemm_s16.hpp"
#include "sfc/kernels/int_ops.hpp"
#include "sfc/kernels/simd.hpp"
#include "sfc/kernels/tile_transform.hpp"

#include "sfc/layers/conv2d.hpp"
#include "sfc/layers/conv2d_int8.hpp"
#include "sfc/layers/conv2d_quantized.hpp"
#include "sfc/layers/requantize.hpp"
#include "sfc/layers/tiling.hpp"

#include "sfc/reference/direct_conv.hpp"
#include "sfc/reference/tile_evaluator.hpp"
#include "sfc/reference/tile_evaluator_generic.hpp"
#include "sfc/quantization/calibration.hpp"
#include "sfc/quantization/finetune.hpp"
#include "sfc/quantization/half.hpp"
#include "sfc/quantization/metrics.hpp"
