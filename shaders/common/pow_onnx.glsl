// ONNX Pow for binary.comp and binary_backward.comp: GLSL pow() is undefined for x < 0 or
// x == 0 && y <= 0, which models use (x^2, x^3). Include after precision.glsl.
#ifndef VKCNN_POW_ONNX_GLSL
#define VKCNN_POW_ONNX_GLSL
afloat pow_onnx(afloat x, afloat y)
{
    if (y == afloat(0)) return afloat(1);
    if (y == afloat(2)) return x * x;
    afloat r = x == afloat(0) ? (y > afloat(0) ? afloat(0) : uintBitsToFloat(0x7f800000u)) : pow(abs(x), y);
    if (x < afloat(0))
    {
        if (y != trunc(y)) return uintBitsToFloat(0x7fc00000u);
        if (mod(y, afloat(2)) != afloat(0)) r = -r;
    }
    return r;
}
#endif
