// Fused activation, chosen by specialization constant 3 (ActivationKind in Ops/FusedActivation.cs).
// alpha/beta come from the kernel's push constants (LeakyRelu slope, Clip bounds, HardSigmoid …).
#ifndef VKCNN_ACTIVATION_GLSL
#define VKCNN_ACTIVATION_GLSL
#include "activation_kinds.glsl"

float vk_erf(float x)
{
    // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
    float t = 1.0 / (1.0 + 0.3275911 * abs(x));
    float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-x * x);
    return x < 0.0 ? -y : y;
}

float activate(float x, float alpha, float beta)
{
    switch (ACTIVATION)
    {
    case ACT_RELU: return max(x, 0.0);
    case ACT_LEAKY_RELU: return x >= 0.0 ? x : alpha * x;
    case ACT_CLIP: return min(max(x, alpha), beta);
    case ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case ACT_TANH: return tanh(x);
    case ACT_HARD_SIGMOID: return clamp(alpha * x + beta, 0.0, 1.0);
    case ACT_HARD_SWISH: return x * clamp(x / 6.0 + 0.5, 0.0, 1.0);
    case ACT_SILU: return x / (1.0 + exp(-x));
    case ACT_ELU: return x >= 0.0 ? x : alpha * (exp(x) - 1.0);
    case ACT_GELU: return 0.5 * x * (1.0 + vk_erf(x * 0.70710678118));
    case ACT_GELU_TANH: return 0.5 * x * (1.0 + tanh(0.79788456080 * (x + 0.044715 * x * x * x)));
    default: return x;
    }
}
#endif
