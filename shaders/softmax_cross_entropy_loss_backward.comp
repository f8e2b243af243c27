#version 450
// SoftmaxCrossEntropyLoss backward, the fused softmax + cross-entropy gradient, one invocation
// per row writing that row's C entries (one writer each):
// dS_k += s · ((1 − ε)·w[y]·(p_k − [k = y]) + (ε/C)·(p_k·Σ_c w[c] − w[k])), p = softmax(row),
// which is s · (p − smoothed one-hot) without class weights; s = dY_row (none), dY (sum) or
// dY / Σ valid weights (mean). ignore_index rows add nothing; bad-label rows get a stored NaN.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool HAS_WEIGHTS = false;
layout(constant_id = 5) const bool HAS_IGNORE = false;
layout(constant_id = 6) const uint REDUCTION = 2;   // 0 = none, 1 = sum, 2 = mean

layout(std430, binding = 0) readonly buffer Scores { sfloat scores[]; };
layout(std430, binding = 1) readonly buffer Labels { float labels[]; };
layout(std430, binding = 2) readonly buffer Weights { float weights[]; };
layout(std430, binding = 3) readonly buffer DY { sfloat dy[]; };
layout(std430, binding = 4) readonly buffer Total { float total[]; };   // mean only
layout(std430, binding = 5) buffer DS { sfloat ds[]; };
layout(push_constant) uniform Params { uint rows; uint C; uint inner; int ignore_index; float smoothing; } p;
#include "cross_entropy_row.glsl"

void main()
{
    uint row = linear_invocation_index();
    if (row >= p.rows) return;
    uint cls;
    uint status = classify(row, cls);
    if (status == ROW_IGNORED) return;
    if (status == ROW_BAD)
    {
        for (uint k = 0u; k < p.C; ++k) ds[score_index(row, k)] = STORE(quiet_nan());
        return;
    }
    afloat s = REDUCTION == 0u ? LOAD(dy[row]) : REDUCTION == 1u ? LOAD(dy[0]) : LOAD(dy[0]) / afloat(total[0]);
    afloat m, log_sum;
    log_sum_exp(row, m, log_sum);
    afloat eps = afloat(p.smoothing), w = afloat(class_weight(cls)), sum_w = afloat(0);
    if (HAS_WEIGHTS) for (uint k = 0u; k < p.C; ++k) sum_w += afloat(weights[k]);
    for (uint k = 0u; k < p.C; ++k)
    {
        uint i = score_index(row, k);
        afloat pk = exp((LOAD(scores[i]) - m) - log_sum);
        afloat hit = k == cls ? afloat(1) : afloat(0);
        afloat g = HAS_WEIGHTS
            ? (afloat(1) - eps) * w * (pk - hit) + eps / afloat(p.C) * (pk * sum_w - afloat(weights[k]))
            : pk - ((afloat(1) - eps) * hit + eps / afloat(p.C));
        ds[i] = STORE(LOAD(ds[i]) + s * g);
    }
}
