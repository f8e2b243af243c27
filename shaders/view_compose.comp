#version 450
// One display frame: the camera frame letterboxed into the view (bilinear, or nearest for tiny images
// such as 28x28 Fashion-MNIST), then the overlay's translucent rectangles and bitmap-font text on top,
// written as packed 8-bit pixels: BGRA for a swapchain image, RGBA for PNG output.
#include "indexing.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Pixels { uint pixels[]; };   // packed RGB/RGBA bytes
layout(std430, binding = 1) readonly buffer Overlay { uint overlay[]; }; // see FrameOverlay.cs
layout(std430, binding = 2) readonly buffer Font { uint font[]; };       // 8 rows per glyph, 5 bits per row
layout(std430, binding = 3) writeonly buffer Out { uint result[]; };
layout(push_constant) uniform Params
{
    uint frame_w; uint frame_h; uint channels; uint out_w; uint out_h;
    int view_x; int view_y; uint view_w; uint view_h; uint flags; // 1 = BGRA, 2 = overlay, 4 = nearest
    uint tiles_x;
} p;

const uint RECT_BASE = 4u, RECT_WORDS = 5u, MAX_RECTS = 32u;
const uint LINE_BASE = RECT_BASE + RECT_WORDS * MAX_RECTS, LINE_WORDS = 20u, MAX_LINES = 24u, MAX_CHARS = 64u;
const uint FIRST_CHAR = 32u, LAST_CHAR = 126u;
// After the items: per 16x16 tile of the output, a mask of the rectangles and one of the lines touching it,
// so a pixel visits only those (most of the frame visits none) instead of looping over every item.
const uint TILE = 16u, TILE_BASE = LINE_BASE + LINE_WORDS * MAX_LINES;

#include "packed_pixels.glsl"

vec3 texel(int x, int y)
{
    return vec3(packed_channel(x, y, 0u, p.frame_w, p.frame_h, p.channels), packed_channel(x, y, 1u, p.frame_w, p.frame_h, p.channels),
                packed_channel(x, y, 2u, p.frame_w, p.frame_h, p.channels));
}

vec3 unpack_rgb(uint c) { return vec3(float(c & 0xFFu), float((c >> 8) & 0xFFu), float((c >> 16) & 0xFFu)); }

void main()
{
    uint i = linear_invocation_index();
    if (i >= p.out_w * p.out_h) return;
    int x = int(i % p.out_w), y = int(i / p.out_w);
    vec3 color = vec3(0.0);
    int vx = x - p.view_x, vy = y - p.view_y;
    if (vx >= 0 && vy >= 0 && vx < int(p.view_w) && vy < int(p.view_h))
    {
        // View pixel centre → frame coordinate (half-pixel centres, edges clamped).
        float sx = (float(vx) + 0.5) * float(p.frame_w) / float(p.view_w) - 0.5;
        float sy = (float(vy) + 0.5) * float(p.frame_h) / float(p.view_h) - 0.5;
        if ((p.flags & 4u) != 0u)
            color = texel(int(floor(sx + 0.5)), int(floor(sy + 0.5)));
        else
        {
            int x0 = int(floor(sx)), y0 = int(floor(sy));
            float fx = sx - float(x0), fy = sy - float(y0);
            color = mix(mix(texel(x0, y0), texel(x0 + 1, y0), fx), mix(texel(x0, y0 + 1), texel(x0 + 1, y0 + 1), fx), fy);
        }
    }
    if ((p.flags & 2u) != 0u)
    {
        uint t = TILE_BASE + 2u * ((uint(y) / TILE) * p.tiles_x + uint(x) / TILE);
        uint rects = overlay[t], lines = overlay[t + 1u];
        while (rects != 0u) // ascending order: later rectangles blend over earlier ones
        {
            uint b = RECT_BASE + uint(findLSB(rects)) * RECT_WORDS;
            rects &= rects - 1u;
            if (x >= int(overlay[b]) && y >= int(overlay[b + 1u]) && x < int(overlay[b + 2u]) && y < int(overlay[b + 3u]))
            {
                uint c = overlay[b + 4u];
                color = mix(color, unpack_rgb(c), float(c >> 24) / 255.0);
            }
        }
        while (lines != 0u)
        {
            uint b = LINE_BASE + uint(findLSB(lines)) * LINE_WORDS;
            lines &= lines - 1u;
            int dx = x - int(overlay[b]), dy = y - int(overlay[b + 1u]);
            uint scale = max(overlay[b + 2u] & 0xFFu, 1u), len = min((overlay[b + 2u] >> 8) & 0xFFu, MAX_CHARS);
            if (dx < 0 || dy < 0 || dy >= int(7u * scale) || dx >= int(len * 6u * scale)) continue;
            uint col = uint(dx) / scale, row = uint(dy) / scale;
            uint k = col / 6u, gx = col % 6u; // 5 columns of ink + 1 of spacing per character
            if (gx >= 5u) continue;
            uint ch = (overlay[b + 4u + k / 4u] >> ((k & 3u) * 8u)) & 0xFFu;
            if (ch < FIRST_CHAR || ch > LAST_CHAR) ch = 63u; // '?'
            if (((font[(ch - FIRST_CHAR) * 8u + row] >> (4u - gx)) & 1u) != 0u) color = unpack_rgb(overlay[b + 3u]);
        }
    }
    uvec3 c8 = uvec3(clamp(round(color), 0.0, 255.0));
    result[i] = (p.flags & 1u) != 0u
        ? (c8.b | (c8.g << 8) | (c8.r << 16) | 0xFF000000u)
        : (c8.r | (c8.g << 8) | (c8.b << 16) | 0xFF000000u);
}
