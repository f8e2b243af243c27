// Walks one channel's M = N·inner values of an NCHW tensor in the order t = start, start + step, …
// (a workgroup's fixed-order reduction), keeping (n, j) = (t / inner, t % inner) up to date by
// addition: no integer division per element, which CPU drivers such as lavapipe run in software.
#ifndef VKCNN_CHANNEL_WALK_GLSL
#define VKCNN_CHANNEL_WALK_GLSL
struct ChannelWalk { uint n; uint j; uint dn; uint dj; };

ChannelWalk channel_walk(uint start, uint step, uint inner)
{
    ChannelWalk w;
    w.n = start / inner; w.j = start - w.n * inner;
    w.dn = step / inner; w.dj = step - w.dn * inner;
    return w;
}

// Flat NCHW index of the current value of channel c (C channels).
uint channel_walk_index(ChannelWalk w, uint C, uint c, uint inner) { return (w.n * C + c) * inner + w.j; }

void channel_walk_next(inout ChannelWalk w, uint inner)
{
    w.j += w.dj; w.n += w.dn;
    if (w.j >= inner) { w.j -= inner; w.n += 1u; }
}
#endif
