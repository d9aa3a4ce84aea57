// The constants of the activation formulas (activations.def), for the kernels (activation_math.h)
// and for the cuDNN graphs that compose activations (cuda/conv_graph.cpp).
#pragma once

constexpr double SELU_ALPHA = 1.6732632423543772848170429916717;
constexpr double SELU_SCALE = 1.0507009873554804934193349852946;
constexpr double GELU_BETA = 0.7978845608028654;  // sqrt(2 / pi)
