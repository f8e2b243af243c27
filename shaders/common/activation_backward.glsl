// Derivative of the fused activation (activation.glsl, spec constant 3) for backward kernels.
// x is the activation's input, y = activate(x) its output: Sigmoid and Tanh use y as PyTorch
// does. At the kinks PyTorch's conventions hold: Relu'(0) = 0, LeakyRelu'(0) = alpha,
// Elu'(0) = alpha, Clip passes the gradient for min <= x <= max, HardSigmoid only strictly
// inside (0, 1), HardSwish uses x / 3 + 0.5 on [-3, 3] (so -0.5 at -3 and 1.5 at 3).
// Include after activation.glsl.
#ifndef VKCNN_ACTIVATION_BACKWARD_GLSL
#define VKCNN_ACTIVATION_BACKWARD_GLSL

float activation_derivative(float x, float y, float alpha, float beta)
{
    switch (ACTIVATION)
    {
    case ACT_RELU: return x > 0.0 ? 1.0 : 0.0;
    case ACT_LEAKY_RELU: return x > 0.0 ? 1.0 : alpha;
    case ACT_CLIP: return x >= alpha && x <= beta ? 1.0 : 0.0;
    case ACT_SIGMOID: return y * (1.0 - y);
    case ACT_TANH: return 1.0 - y * y;
    case ACT_HARD_SIGMOID:
    {
        float v = alpha * x + beta;
        return v > 0.0 && v < 1.0 ? alpha : 0.0;
    }
    case ACT_HARD_SWISH: return x < -3.0 ? 0.0 : x <= 3.0 ? x / 3.0 + 0.5 : 1.0;
    case ACT_SILU:
    {
        float s = 1.0 / (1.0 + exp(-x));
        return s * (1.0 + x * (1.0 - s));
    }
    case ACT_ELU: return x > 0.0 ? 1.0 : alpha * exp(x);
    // Phi(x) + x * phi(x).
    case ACT_GELU: return 0.5 * (1.0 + vk_erf(x * 0.70710678118)) + x * 0.39894228040 * exp(-0.5 * x * x);
    case ACT_GELU_TANH:
    {
        float t = tanh(0.79788456080 * (x + 0.044715 * x * x * x));
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * 0.79788456080 * (1.0 + 0.134145 * x * x);
    }
    default: return 1.0;
    }
}
#endif
