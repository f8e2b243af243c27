// Derivative of a fused activation (spec constant 3, ActivationKind) from its saved OUTPUT y,
// for the backward kernels: dL/dz = dL/dy * activation_derivative(y). Only activations whose
// derivative is a function of y are listed; the host refuses the others.
#ifndef VKCNN_ACTIVATION_BACKWARD_FROM_OUTPUT_GLSL
#define VKCNN_ACTIVATION_BACKWARD_FROM_OUTPUT_GLSL
#include "activation_kinds.glsl"

float activation_derivative_from_output(float y, float alpha, float beta)
{
    switch (ACTIVATION)
    {
    case ACT_RELU: return y > 0.0 ? 1.0 : 0.0;                  // Relu
    case ACT_LEAKY_RELU: return y > 0.0 ? 1.0 : alpha;                // LeakyRelu, alpha >= 0
    case ACT_CLIP: return y > alpha && y < beta ? 1.0 : 0.0;    // Clip [alpha, beta]
    case ACT_SIGMOID: return y * (1.0 - y);                        // Sigmoid
    case ACT_TANH: return 1.0 - y * y;                          // Tanh
    default: return 1.0;
    }
}
#endif
