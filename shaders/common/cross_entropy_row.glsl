// SoftmaxCrossEntropyLoss: one row (n, d1..dk) of the scores viewed as [N, C, inner], shared by
// the forward and backward kernels. Needs HAS_WEIGHTS and HAS_IGNORE constants, the Scores,
// Labels and Weights buffers, and push constants rows, C, inner, ignore_index, smoothing.
#ifndef VKCNN_CROSS_ENTROPY_ROW_GLSL
#define VKCNN_CROSS_ENTROPY_ROW_GLSL
const uint ROW_VALID = 0u, ROW_IGNORED = 1u, ROW_BAD = 2u;

// The row's label as a class index: valid, ignore_index, or bad (outside [0, C), not an
// integer, NaN). `cls` is clamped into [0, C) so a bad label never indexes out of bounds.
uint classify(uint row, out uint cls)
{
    float l = labels[row];
    // The integer clamp keeps the index in bounds whatever int() makes of NaN or a huge value.
    cls = uint(clamp(int(clamp(l, 0.0, float(p.C - 1u))), 0, int(p.C) - 1));
    if (HAS_IGNORE && l == float(p.ignore_index)) return ROW_IGNORED;
    return l >= 0.0 && l < float(p.C) && float(cls) == l ? ROW_VALID : ROW_BAD;
}

uint score_index(uint row, uint k)
{
    uint n = row / p.inner;
    return (n * p.C + k) * p.inner + (row - n * p.inner);
}

float class_weight(uint k) { return HAS_WEIGHTS ? weights[k] : 1.0; }

// Row maximum and log Σ exp(s − max): log-softmax_k = (s_k − max) − log_sum.
void log_sum_exp(uint row, out afloat m, out afloat log_sum)
{
    m = afloat(-3.402823466e38);
    for (uint k = 0u; k < p.C; ++k) m = max(m, LOAD(scores[score_index(row, k)]));
    afloat s = afloat(0);
    for (uint k = 0u; k < p.C; ++k) s += exp(LOAD(scores[score_index(row, k)]) - m);
    log_sum = log(s);
}

float quiet_nan() { return uintBitsToFloat(0x7FC00000u); }   // stored, not computed: survives fast math
#endif
