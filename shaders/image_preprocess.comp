#version 450
// Camera/image frame → network input in one pass: packed 8-bit RGB or RGBA pixels (as uploaded,
// the CPU only decodes) are resized bilinearly (half-pixel centres, edges clamped), center-cropped
// or letterboxed, scaled to 0..1, normalised with per-channel mean/std and written NCHW in RGB or
// BGR order. Outside the image rectangle (letterbox bars) the pad value is normalised the same way.
#include "indexing.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Pixels { uint pixels[]; };
layout(std430, binding = 1) writeonly buffer Out { float result[]; };
layout(push_constant) uniform Params
{
    uint width; uint height; uint in_channels; uint out_width; uint out_height;
    float inv_scale_x; float inv_scale_y; float offset_x; float offset_y; uint bgr;
    float mean0; float mean1; float mean2; float inv_std0; float inv_std1; float inv_std2;
    uint image_x; uint image_y; uint image_width; uint image_height; float pad;  // pad: 0..1
} p;

#include "packed_pixels.glsl"

float channel(int x, int y, uint c) { return packed_channel(x, y, c, p.width, p.height, p.in_channels); }

void main()
{
    uint i = linear_invocation_index();
    uint plane = p.out_width * p.out_height;
    if (i >= 3u * plane) return;
    uint c = i / plane;                        // output channel
    uint x = i % p.out_width, y = (i / p.out_width) % p.out_height;
    uint src_c = p.bgr != 0u ? 2u - c : c;     // RGB source, optionally written as BGR
    float v = p.pad;
    if (x - p.image_x < p.image_width && y - p.image_y < p.image_height)  // unsigned: also x >= image_x
    {
        // Output pixel → resized-image coordinate (crop offset) → source coordinate (half-pixel centres).
        float sx = (float(x) + p.offset_x + 0.5) * p.inv_scale_x - 0.5;
        float sy = (float(y) + p.offset_y + 0.5) * p.inv_scale_y - 0.5;
        int x0 = int(floor(sx)), y0 = int(floor(sy));
        float fx = sx - float(x0), fy = sy - float(y0);
        float top = mix(channel(x0, y0, src_c), channel(x0 + 1, y0, src_c), fx);
        float bottom = mix(channel(x0, y0 + 1, src_c), channel(x0 + 1, y0 + 1, src_c), fx);
        v = mix(top, bottom, fy) / 255.0;
    }
    float mean = c == 0u ? p.mean0 : c == 1u ? p.mean1 : p.mean2;
    float inv_std = c == 0u ? p.inv_std0 : c == 1u ? p.inv_std1 : p.inv_std2;
    result[i] = (v - mean) * inv_std;
}
