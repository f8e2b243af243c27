// Derivative of a fused activation (spec constant 3, ActivationKind) from its saved OUTPUT y,
// for the backward kernels: dL/dz = dL/dy * activation_derivative(y). Only activations whose
// derivative is a function of y are listed; the host refuses the others.
#ifndef VKCNN_ACTIVATION_BACKWARD_FROM_OUTPUT_GLSL
#define VKCNN_ACTIVATION_BACKWARD_FROM_OUTPUT_GLSL
layout(constant_id = 3) const int ACTIVATION = 0;

float activation_derivative_from_output(float y, float alpha, float beta)
{
    switch (ACTIVATION)
    {
    case 1: return y > 0.0 ? 1.0 : 0.0;                  // Relu
    case 2: return y > 0.0 ? 1.0 : alpha;                // LeakyRelu, alpha >= 0
    case 3: return y > alpha && y < beta ? 1.0 : 0.0;    // Clip [alpha, beta]
    case 4: return y * (1.0 - y);                        // Sigmoid
    case 5: return 1.0 - y * y;                          // Tanh
    default: return 1.0;
    }
}
#endif
