// Reading FramePixels: a frame's 8-bit pixels packed four bytes per 32-bit word, row-major, no padding.
// Include after declaring the `uint pixels[]` buffer.
#ifndef VKCNN_PACKED_PIXELS_GLSL
#define VKCNN_PACKED_PIXELS_GLSL
// Channel c of pixel (x, y), the coordinates clamped to the frame (edge pixels repeat).
float packed_channel(int x, int y, uint c, uint width, uint height, uint channels)
{
    x = clamp(x, 0, int(width) - 1);
    y = clamp(y, 0, int(height) - 1);
    uint b = (uint(y) * width + uint(x)) * channels + c;
    return float((pixels[b >> 2] >> ((b & 3u) * 8u)) & 0xFFu);
}
#endif
