// Fused activation, chosen by specialization constant 3 (ActivationKind in Ops/FusedActivation.cs).
// alpha/beta come from the kernel's push constants (LeakyRelu slope, Clip bounds, HardSigmoid …).
#ifndef VKCNN_ACTIVATION_GLSL
#define VKCNN_ACTIVATION_GLSL
layout(constant_id = 3) const int ACTIVATION = 0;

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
    case 1: return max(x, 0.0);
    case 2: return x >= 0.0 ? x : alpha * x;
    case 3: return min(max(x, alpha), beta);
    case 4: return 1.0 / (1.0 + exp(-x));
    case 5: return tanh(x);
    case 6: return clamp(alpha * x + beta, 0.0, 1.0);
    case 7: return x * clamp(x / 6.0 + 0.5, 0.0, 1.0);
    case 8: return x / (1.0 + exp(-x));
    case 9: return x >= 0.0 ? x : alpha * (exp(x) - 1.0);
    case 10: return 0.5 * x * (1.0 + vk_erf(x * 0.70710678118));
    case 11: return 0.5 * x * (1.0 + tanh(0.79788456080 * (x + 0.044715 * x * x * x)));
    default: return x;
    }
}
#endif
