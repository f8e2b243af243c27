// Fused residual add (Compiler/Passes/FuseResidualAdds): y = act(conv + bias + r), where r is the
// Add's other input, NCHW in the output's shape. The including shader declares
// `layout(constant_id = N) const bool RESIDUAL` and RESIDUAL_BINDING before including this;
// without a residual the binding holds a dummy buffer that is never read.
#ifndef VKCNN_RESIDUAL_GLSL
#define VKCNN_RESIDUAL_GLSL
layout(std430, binding = RESIDUAL_BINDING) readonly buffer Residual { sfloat residual[]; };

// The residual at output index o, or 0 when the conv has none.
afloat residual_at(uint o) { return RESIDUAL ? LOAD(residual[o]) : afloat(0); }
#endif
