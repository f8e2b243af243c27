using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// MaxPool and AveragePool with a 2-D window (shader <c>pool_window</c>), GlobalAveragePool and
/// GlobalMaxPool as a reduction over each H·W plane (<c>pool_global_loop</c> / <c>pool_global_group</c>).
/// NCHW float32. MaxPool's optional Indices output holds flat NCHW indices (storage_order 0:
/// row-major, 1: column-major within each plane) stored as float values, exact up to 2^24.
/// Backward: <c>pool_backward_window</c> gathers each input gradient from the windows that hold
/// it, or, where windows cannot overlap, <c>pool_backward_disjoint</c> scatters each window's; global pools spread (average) or route
/// through <c>pool_backward_argmax</c> (max).
/// </summary>
internal sealed class Pool : IOperator, IDifferentiable, IKernelVariants
{
    public IReadOnlyList<string> OpTypes { get; } = ["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"];

    /// <summary><c>window</c> for a windowed pool; a global one reduces each plane in one invocation (<c>loop</c>, the
    /// reference) or with a whole workgroup (<c>group</c>).</summary>
    public IReadOnlyList<string> Variants { get; } = ["window", "loop", "group"];

    public string? Refusal(string variant, OpContext node, GpuDevice? device) => (variant, IsGlobal(node)) switch
    {
        ("window", true) => "is for windowed pooling; this pool is global",
        ("loop" or "group", false) => "is for global pooling; this pool has a window",
        _ => null,
    };

    public string Heuristic(OpContext node, GpuDevice device)
    {
        if (!IsGlobal(node)) return "window";
        var x = Planar(node, node.InputShape(0));
        return (long)x[2] * x[3] >= (long)GroupReductionFactor * device.DefaultWorkgroupSize * x[0] * x[1] ? "group" : "loop";
    }

    // MaxPool's Indices output holds flat indices a half would round: with it the node stays fp32.
    public OperatorTraits Traits(Node node) =>
        node.Outputs.Count > 1 && node.Outputs[1].Length > 0 ? OperatorTraits.None : OperatorTraits.Fp16Storage;


    /// <summary>Per sample, but for MaxPool's Indices: they count across the whole batch.</summary>
    public IReadOnlyList<int>? PerSampleInputs(Node node) => node.Outputs.Count > 1 && node.Outputs[1].Length > 0 ? null : [0];

    /// <summary>
    /// Global pools use one workgroup per plane only when there are too few planes to keep the
    /// device busy (plane size ≥ this × workgroup size × planes); otherwise one invocation per
    /// plane. Measured on lavapipe (ms per dispatch, loop vs workgroup): 2048 planes of 7x7
    /// 0.08 vs 1.7, 256 of 56x56 0.36 vs 0.85, 16 of 56x56 0.08 vs 0.11, 1 of 224x224 0.21 vs 0.075.
    /// </summary>
    public const int GroupReductionFactor = 16;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var input = c.InputShape(0);
        if (IsGlobal(c))
        {
            if (input.Rank < 3) throw c.Error($"input {input} must be N x C x D1 x … (rank ≥ 3)");
            return [new TensorShape([input[0], input[1], .. Enumerable.Repeat(1, input.Rank - 2)])];
        }
        if (input.Rank is not (3 or 4 or 5))
            throw c.Unsupported($"only 1-D, 2-D and 3-D pooling (an NCL, NCHW or NCDHW input) is supported; input is {input}");
        if (input.Rank == 5)
        {
            if (c.Node.Outputs.Count > 1 && c.Node.Outputs[1].Length > 0) throw c.Unsupported("3-D MaxPool has no Indices output");
            return [new TensorShape([input[0], input[1], .. Windows(c, input).Select(a => a.Out)])];
        }
        var x = Planar(c, input);
        var (h, w) = Geometry(c, x);
        var y = input.Rank == 3 ? new TensorShape(x[0], x[1], w.Out) : new TensorShape(x[0], x[1], h.Out, w.Out);
        if (c.Node.OpType != "MaxPool" || c.Node.Outputs.Count < 2) return [y];
        if (x.ElementCount > 1 << 24) throw c.Unsupported($"input {x} has more elements than float32 indices can represent exactly");
        return [y, y];   // Indices: one per output element
    }

    public void Build(OpBuildContext c)
    {
        if (c.InputShape(0).Rank == 5 && !IsGlobal(c))
        {
            Pool3d.Forward(c, c.InputShape(0), Windows(c, c.InputShape(0)), c.Input(0), c.Output(0));
            return;
        }
        var x = Planar(c, c.InputShape(0));
        bool max = c.Node.OpType is "MaxPool" or "GlobalMaxPool";
        uint mode = max ? 0u : 1u;
        uint local = c.Device.DefaultWorkgroupSize;
        Tensor input = c.Input(0), output = c.Output(0);
        uint planes = checked((uint)(x[0] * x[1]));
        if (IsGlobal(c))
        {
            uint size = checked((uint)(x[2] * x[3]));
            var push = new GlobalPush(planes, size);
            if (c.Variant == "group")
            {
                var group = c.Pipeline(new PipelineKey("pool_global_group", 2, 8, local) { Constants = [mode] });
                c.Dispatch(group, [input, output], c.Grid1D(planes, 1), push);
            }
            else
            {
                var loop = c.Pipeline(new PipelineKey("pool_global_loop", 2, 8, local) { Constants = [mode] });
                c.Dispatch(loop, [input, output], c.Grid1D(planes, local), push);
            }
            return;
        }

        var (h, w) = Geometry(c, x);
        bool includePad = !max && c.Int("count_include_pad", 0) != 0;
        var limits = c.Device.Info.Limits;
        // A 2-D workgroup over (column, row): as wide as the output row allows, the rest in y.
        uint localX = Math.Min(local, NextPowerOfTwo((uint)w.Out));
        uint localY = Math.Min(local / localX, limits.MaxWorkGroupSize[1]);
        uint indices = max && c.HasOutput(1) ? (c.Int("storage_order", 0) == 0 ? 1u : 2u) : 0u;
        var pipeline = c.Pipeline(new PipelineKey("pool_window", 3, Marshal.SizeOf<WindowPush>(), localX, localY)
        {
            Constants = [mode, includePad ? 1u : 0u, (uint)h.Kernel, (uint)w.Kernel, (uint)h.Stride, (uint)w.Stride, (uint)h.Dilation,
                (uint)w.Dilation, indices],
        });
        var groups = (((uint)w.Out + localX - 1) / localX, ((uint)h.Out + localY - 1) / localY,
            Math.Min(planes, limits.MaxWorkGroupCount[2]));
        if (groups.Item2 > limits.MaxWorkGroupCount[1])
            throw c.Unsupported($"output {c.OutputShape(0)} has more rows than one dispatch can cover");
        // Without Indices the binding is never written (INDICES is 0).
        var indicesOut = indices != 0 ? c.Output(1) : KernelSink.Of(c).UnusedFloatBinding(output, "no_indices");
        c.Dispatch(pipeline, [input, output, indicesOut], groups,
            new WindowPush(planes, x[2], x[3], (uint)h.Out, (uint)w.Out, h.PadBegin, w.PadBegin, h.PadEnd, w.PadEnd));
    }

    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0;

    public void BuildBackward(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } dx) return;
        var dy = c.OutputGradient(0) ?? throw c.Error("the output gradient is required for the input gradient");
        if (c.InputShape(0).Rank == 5 && !IsGlobal(c))
        {
            Pool3d.Backward(c, c.InputShape(0), Windows(c, c.InputShape(0)), c.Input(0), dy, dx);
            return;
        }
        var x = Planar(c, c.InputShape(0));
        bool max = c.Node.OpType is "MaxPool" or "GlobalMaxPool";
        uint local = c.Device.DefaultWorkgroupSize;
        uint planes = checked((uint)(x[0] * x[1]));
        if (IsGlobal(c))
        {
            uint size = checked((uint)(x[2] * x[3]));
            uint count = checked(planes * size);
            Tensor selected = dy;   // average reads no selection: any bound buffer will do
            if (max)
            {
                selected = c.Scratch("argmax", [(int)planes]);
                var argmax = c.Pipeline(new PipelineKey("pool_backward_argmax", 3, 8, local));
                c.Dispatch(argmax, [c.Input(0), c.Output(0), selected], c.Grid1D(planes, local), new GlobalPush(planes, size));
            }
            var spread = c.Pipeline(new PipelineKey("pool_backward_global", 3, 8, local) { Constants = [max ? 0u : 1u] });
            c.Dispatch(spread, [dy, selected, dx], c.Grid1D(count, local), new GlobalPush(count, size));
            return;
        }

        var (h, w) = Geometry(c, x);
        bool includePad = !max && c.Int("count_include_pad", 0) != 0;
        var limits = c.Device.Info.Limits;
        // Windows that cannot overlap (2x2 stride 2 …) scatter from each window; others gather each input
        // element from the windows holding it. Either way every dX element has one writer.
        bool disjoint = h.Stride >= (h.Kernel - 1) * h.Dilation + 1 && w.Stride >= (w.Kernel - 1) * w.Dilation + 1;
        uint columns = (uint)(disjoint ? w.Out : x[3]), rows = (uint)(disjoint ? h.Out : x[2]);
        // The forward's 2-D workgroup layout, over the columns and rows of the output (scatter) or input (gather).
        uint localX = Math.Min(local, NextPowerOfTwo(columns));
        uint localY = Math.Min(local / localX, limits.MaxWorkGroupSize[1]);
        var pipeline = c.Pipeline(new PipelineKey(disjoint ? "pool_backward_disjoint" : "pool_backward_window", 4,
            Marshal.SizeOf<WindowPush>(), localX, localY)
        {
            Constants = [max ? 0u : 1u, includePad ? 1u : 0u, (uint)h.Kernel, (uint)w.Kernel, (uint)h.Stride, (uint)w.Stride,
                (uint)h.Dilation, (uint)w.Dilation],
        });
        var groups = ((columns + localX - 1) / localX, (rows + localY - 1) / localY, Math.Min(planes, limits.MaxWorkGroupCount[2]));
        if (groups.Item2 > limits.MaxWorkGroupCount[1])
            throw c.Unsupported($"{(disjoint ? "the output of input " : "input ")}{x} has more rows than one dispatch can cover");
        c.Dispatch(pipeline, [c.Input(0), c.Output(0), dy, dx], groups,
            new WindowPush(planes, x[2], x[3], (uint)h.Out, (uint)w.Out, h.PadBegin, w.PadBegin, h.PadEnd, w.PadEnd));
    }

    private static uint NextPowerOfTwo(uint v) => v <= 1 ? 1 : 1u << (32 - System.Numerics.BitOperations.LeadingZeroCount(v - 1));

    private static bool IsGlobal(OpContext c) => c.Node.OpType.StartsWith("Global", StringComparison.Ordinal);

    /// <summary>The input as the kernels see it: a 1-D NCL input is NC1L (the same bytes), and a global pool's N-D input one plane
    /// of all its spatial values per channel.</summary>
    private static TensorShape Planar(OpContext c, TensorShape x) =>
        IsGlobal(c) ? new TensorShape(x[0], x[1], 1, checked((int)(x.ElementCount / ((long)x[0] * x[1]))))
        : x.Rank == 3 ? new TensorShape(x[0], x[1], 1, x[2]) : x;

    /// <summary>One spatial axis of a pooling window, padding resolved.</summary>
    internal readonly record struct WindowAxis(int Kernel, int Stride, int Dilation, int PadBegin, int PadEnd, int Out);

    private static (WindowAxis H, WindowAxis W) Geometry(OpContext c, TensorShape x) => Windows(c, x) is var w ? (w[0], w[1]) : default;

    /// <summary>Each spatial axis's window of an NCHW (1-D inputs lifted to it) or NCDHW input, padding resolved.</summary>
    internal static WindowAxis[] Windows(OpContext c, TensorShape x)
    {
        bool max = c.Node.OpType == "MaxPool";
        int axes = x.Rank - 2;
        long[] kernel = c.Ints("kernel_shape") ?? throw c.Error("attribute kernel_shape is required");
        long[] strides = c.Ints("strides") ?? Enumerable.Repeat(1L, axes).ToArray();
        long[] dilations = c.Ints("dilations") ?? Enumerable.Repeat(1L, axes).ToArray();
        long[] pads = c.Ints("pads") ?? new long[2 * axes];
        if (c.InputShape(0).Rank == 3)
        {
            // 1-D: one value per attribute (two pads) for the single axis, lifted onto the W axis of a 1-tall plane.
            if (kernel.Length != 1) throw c.Error($"kernel_shape {Fmt(kernel)} must have 1 value for input {c.InputShape(0)}");
            var given = c.Ints("pads") ?? [0, 0];
            if (given.Length != 2) throw c.Error($"pads {Fmt(given)} must have 2 values (begin, end) for input {c.InputShape(0)}");
            kernel = [1, kernel[0]];
            strides = c.Ints("strides") is { Length: 1 } s ? [1, s[0]] : strides;
            dilations = c.Ints("dilations") is { Length: 1 } d ? [1, d[0]] : dilations;
            pads = [0, given[0], 0, given[1]];
        }
        string autoPad = c.String("auto_pad") ?? "NOTSET";
        bool ceil = c.Int("ceil_mode", 0) != 0;
        if (kernel.Length != axes) throw c.Error($"kernel_shape {Fmt(kernel)} must have {axes} values for input {x}");
        if (strides.Length != axes) throw c.Error($"strides {Fmt(strides)} must have {axes} values for input {x}");
        if (dilations.Length != axes) throw c.Error($"dilations {Fmt(dilations)} must have {axes} values for input {x}");
        if (pads.Length != 2 * axes) throw c.Error($"pads {Fmt(pads)} must have {2 * axes} values (begins, then ends) for input {x}");
        if (kernel.Any(k => k < 1) || strides.Any(s => s < 1) || dilations.Any(d => d < 1))
            throw c.Error($"kernel_shape {Fmt(kernel)}, strides {Fmt(strides)} and dilations {Fmt(dilations)} must be positive");
        if (pads.Any(p => p < 0)) throw c.Error($"pads {Fmt(pads)} must not be negative");
        if (max && c.Int("storage_order",
            0) is not (0 or 1)) throw c.Error($"storage_order must be 0 (row-major) or 1 (column-major); got {c.Int("storage_order", 0)}");
        if (autoPad != "NOTSET" && pads.Any(p => p != 0))
            throw c.Error($"pads {Fmt(pads)} cannot be combined with auto_pad={autoPad}");

        WindowAxis Axis(int axis, string name)
        {
            int size = x[2 + axis], k = (int)kernel[axis], s = (int)strides[axis], d = (int)dilations[axis];
            long extent = (long)(k - 1) * d + 1;
            long begin = pads[axis], end = pads[axes + axis], outSize;
            switch (autoPad)
            {
                case "NOTSET":
                case "VALID":
                    long span = size + begin + end;
                    if (span < extent)
                        throw c.Error($"kernel extent {extent} along {name} (kernel_shape {Fmt(kernel)}, dilations {Fmt(dilations)}) is " +
                            $"larger than the padded input ({span}) of input {x} with pads {Fmt(pads)}");
                    outSize = ceil ? (span - extent + s - 1) / s + 1 : (span - extent) / s + 1;
                    // The last window must start inside the input or the left padding (ONNX/PyTorch ceil_mode rule).
                    if (ceil && (outSize - 1) * s >= size + begin) outSize--;
                    break;
                case "SAME_UPPER":
                case "SAME_LOWER":
                    outSize = (size + s - 1) / s;
                    long total = Math.Max(0, (outSize - 1) * s + extent - size);
                    begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end = total - begin;
                    break;
                default:
                    throw c.Error($"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
            }
            // Keeps every window overlapping the input (no empty max/average).
            if (begin >= extent || end >= extent)
                throw c.Unsupported($"pads {Fmt(pads)} along {name} reach the kernel extent {extent}: windows that lie entirely in " +
                    $"padding are not supported");
            return new WindowAxis(k, s, d, (int)begin, (int)end, checked((int)outSize));
        }

        string[] names = axes == 3 ? ["D", "H", "W"] : ["H", "W"];
        return Enumerable.Range(0, axes).Select(a => Axis(a, names[a])).ToArray();
    }

    private static string Fmt(long[] v) => $"[{string.Join(", ", v)}]";

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct GlobalPush(uint Planes, uint Size);

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct WindowPush(uint Planes, int H, int W, uint OH, uint OW, int PadTop, int PadLeft, int PadBottom,
        int PadRight);
}
