#version 450
// SoftmaxCrossEntropyLoss, one invocation per row (n, d1..dk), numerically stable (log-sum-exp):
// loss = (1 − ε)·(−w[y]·logp[y]) + (ε/C)·(−Σ_k w[k]·logp[k]) with ε = vkcnn.label_smoothing (PyTorch's
// definition; w = 1 without class weights). An ignore_index row contributes 0 with weight 0; a row
// whose label is outside [0, C) gets a NaN loss and is flagged, with reads clamped in bounds.
// aux = [weight w[y] (0 unless valid), bad flag] per row for the reduction; optional log_prob output.
#include "precision.glsl"
#include "indexing.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 4) const bool HAS_WEIGHTS = false;
layout(constant_id = 5) const bool HAS_IGNORE = false;
layout(constant_id = 6) const bool WRITE_LOG_PROB = false;

layout(std430, binding = 0) readonly buffer Scores { sfloat scores[]; };
layout(std430, binding = 1) readonly buffer Labels { float labels[]; };
layout(std430, binding = 2) readonly buffer Weights { float weights[]; };
layout(std430, binding = 3) writeonly buffer Loss { float loss[]; };
layout(std430, binding = 4) writeonly buffer Aux { float aux[]; };   // [2, rows]
layout(std430, binding = 5) writeonly buffer LogProb { sfloat log_prob[]; };
layout(push_constant) uniform Params { uint rows; uint C; uint inner; int ignore_index; float smoothing; } p;
#include "cross_entropy_row.glsl"

void main()
{
    uint row = linear_invocation_index();
    if (row >= p.rows) return;
    uint cls;
    uint status = classify(row, cls);
    afloat m, log_sum;
    log_sum_exp(row, m, log_sum);
    afloat spread = afloat(0);
    for (uint k = 0u; k < p.C; ++k)
    {
        afloat lp = (LOAD(scores[score_index(row, k)]) - m) - log_sum;
        if (WRITE_LOG_PROB) log_prob[score_index(row, k)] = STORE(lp);
        spread -= afloat(class_weight(k)) * lp;
    }
    afloat w = afloat(class_weight(cls));
    afloat nll = -w * ((LOAD(scores[score_index(row, cls)]) - m) - log_sum);
    afloat eps = afloat(p.smoothing);
    loss[row] = status == ROW_BAD ? quiet_nan() : status == ROW_IGNORED ? 0.0 : (afloat(1) - eps) * nll + eps / afloat(p.C) * spread;
    aux[row] = status == ROW_VALID ? w : 0.0;
    aux[p.rows + row] = status == ROW_BAD ? 1.0 : 0.0;
}
