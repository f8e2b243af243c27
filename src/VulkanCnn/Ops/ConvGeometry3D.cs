using System.Runtime.InteropServices;

namespace VulkanCnn.Ops;

/// <summary>
/// The resolved shape of a 3-D Conv / ConvTranspose node (NCDHW input): per spatial axis (depth, height, width) its input and
/// output size, kernel, stride, dilation and leading/trailing pads (auto_pad and output_shape applied), and the groups.
/// </summary>
internal sealed record ConvGeometry3D(int N, int C, int[] Size, int M, int[] Out, int[] Kernel, int[] Strides, int[] Dilations,
    int[] PadBegin, int[] PadEnd, int Group)
{
    public int CG => C / Group;
    public int MG => M / Group;
    public TensorShape OutputShape => new([N, M, .. Out]);

    /// <summary>Whether the node's input is 5-D (NCDHW).</summary>
    public static bool Is3D(OpContext c) => c.InputShape(0).Rank == 5;

    /// <summary>The output as the 2-D element-wise kernels see it (conv_backward_dy, conv_backward_bias): N, M and the output's
    /// spatial values as one plane.</summary>
    public ConvGeometry Flat => new(N, C, 1, Size[0] * Size[1] * Size[2], M, 1, Out[0] * Out[1] * Out[2], 1, 1, 1, 1, 1, 1, 0, 0, 0, 0,
        Group);

    /// <summary>The convolution that maps a ConvTranspose's output space back onto its input through the same taps (its
    /// backward): input dY [N, M, out], output [N, C, size], weights ConvTranspose's W [C, M/group, k] as stored.</summary>
    public ConvGeometry3D Dual => new(N, M, Out, C, Size, Kernel, Strides, Dilations, PadBegin,
        Enumerable.Range(0, 3).Select(a => (Size[a] - 1) * Strides[a] + (Kernel[a] - 1) * Dilations[a] + 1 - Out[a] - PadBegin[a])
            .ToArray(), Group);

    internal Conv3dParams Params(FusedActivation activation) => new()
    {
        N = (uint)N,
        C = (uint)C,
        D = (uint)Size[0],
        H = (uint)Size[1],
        W = (uint)Size[2],
        M = (uint)M,
        OD = (uint)Out[0],
        OH = (uint)Out[1],
        OW = (uint)Out[2],
        KD = (uint)Kernel[0],
        KH = (uint)Kernel[1],
        KW = (uint)Kernel[2],
        SD = (uint)Strides[0],
        SH = (uint)Strides[1],
        SW = (uint)Strides[2],
        DD = (uint)Dilations[0],
        DH = (uint)Dilations[1],
        DW = (uint)Dilations[2],
        PD = PadBegin[0],
        PH = PadBegin[1],
        PW = PadBegin[2],
        CG = (uint)CG,
        MG = (uint)MG,
        Alpha = activation.Alpha,
        Beta = activation.Beta,
    };

    /// <summary>Geometry of a 3-D Conv node: X [N, C, D, H, W], W [M, C/group, kD, kH, kW], optional B [M].</summary>
    public static ConvGeometry3D ForConv(OpContext c)
    {
        var (x, w) = Shapes(c);
        int group = GroupOf(c, x[1], w[0]);
        if (w[1] != x[1] / group)
            throw c.Error($"weights W {w} have {w[1]} channels per group, but input X {x} with group {group} has {x[1] / group}");
        var (kernel, strides, dilations, begin, end) = Attributes(c, w);
        ConvGeometry.CheckBias(c, w[0], w);
        string autoPad = c.String("auto_pad") ?? "NOTSET";
        var output = new int[3];
        for (int a = 0; a < 3; a++)
        {
            int size = x[2 + a], extent = (kernel[a] - 1) * dilations[a] + 1;
            if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                output[a] = (size + strides[a] - 1) / strides[a];
                int total = Math.Max(0, (output[a] - 1) * strides[a] + extent - size);
                (begin[a], end[a]) = ConvGeometry.Split(total, autoPad == "SAME_UPPER");
            }
            else output[a] = (int)Math.Floor((size + begin[a] + end[a] - extent) / (double)strides[a]) + 1;
            if (output[a] < 1)
                throw c.Error($"the kernel {Fmt(kernel)} (dilations {Fmt(dilations)}) does not fit the padded input X {x}");
        }
        return new ConvGeometry3D(x[0], x[1], [x[2], x[3], x[4]], w[0], output, kernel, strides, dilations, begin, end, group);
    }

    /// <summary>Geometry of a 3-D ConvTranspose node: X [N, C, D, H, W], W [C, M/group, kD, kH, kW], optional B [M].</summary>
    public static ConvGeometry3D ForConvTranspose(OpContext c)
    {
        var (x, w) = Shapes(c);
        if (w[0] != x[1]) throw c.Error($"weights W {w} are for {w[0]} input channels, but input X {x} has {x[1]}");
        int group = GroupOf(c, x[1], x[1]), m = w[1] * group;
        var (kernel, strides, dilations, begin, end) = Attributes(c, w);
        ConvGeometry.CheckBias(c, m, w);
        int[] outputPadding = Triple(c, "output_padding", 0);
        string autoPad = c.String("auto_pad") ?? "NOTSET";
        long[]? outputShape = c.Ints("output_shape");
        if (outputShape is not null && outputShape.Length is not (3 or 5))
            throw c.Error($"output_shape {Fmt(outputShape)} must list the 3 spatial sizes (or all 5 dimensions)");
        var output = new int[3];
        for (int a = 0; a < 3; a++)
        {
            if (outputPadding[a] >= Math.Max(strides[a], dilations[a]))
                throw c.Error($"output_padding {Fmt(outputPadding)} must be smaller than the stride {Fmt(strides)} or the dilation");
            int full = strides[a] * (x[2 + a] - 1) + outputPadding[a] + (kernel[a] - 1) * dilations[a] + 1;
            if (outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                int wanted = outputShape is not null ? checked((int)outputShape[outputShape.Length - 3 + a]) : x[2 + a] * strides[a];
                (begin[a], end[a]) = ConvGeometry.Split(full - wanted, autoPad == "SAME_UPPER");
            }
            output[a] = full - begin[a] - end[a];
            if (output[a] < 1) throw c.Error($"pads {Fmt(begin)}/{Fmt(end)} leave no output for input X {x}");
        }
        return new ConvGeometry3D(x[0], x[1], [x[2], x[3], x[4]], m, output, kernel, strides, dilations, begin, end, group);
    }

    private static (TensorShape X, TensorShape W) Shapes(OpContext c)
    {
        var x = c.InputShape(0);
        var w = c.InputShape(1);
        if (x.Rank != 5 || w.Rank != 5) throw c.Error($"input X {x} and weights W {w} must both be 5-D (NCDHW)");
        return (x, w);
    }

    private static int GroupOf(OpContext c, int channels, int outputs)
    {
        long g = c.Int("group", 1);
        if (g < 1 || channels % g != 0 || outputs % g != 0)
            throw c.Error($"group {g} must be at least 1 and divide the input channels ({channels}) and output channels ({outputs})");
        return checked((int)g);
    }

    private static (int[] Kernel, int[] Strides, int[] Dilations, int[] Begin, int[] End) Attributes(OpContext c, TensorShape w)
    {
        int[] kernel = [w[2], w[3], w[4]];
        if (c.Ints("kernel_shape") is { } ks && !ks.Select(v => (int)v).SequenceEqual(kernel))
            throw c.Error($"kernel_shape {Fmt(ks)} does not match weights W {w}");
        long[] pads = c.Ints("pads") ?? new long[6];
        if (pads.Length != 6 || pads.Any(p => p < 0))
            throw c.Error($"pads {Fmt(pads)} must have 6 non-negative values (3 begins, then 3 ends)");
        string autoPad = c.String("auto_pad") ?? "NOTSET";
        if (autoPad is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID"))
            throw c.Error($"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        if (autoPad != "NOTSET" && pads.Any(p => p != 0)) throw c.Error($"auto_pad {autoPad} cannot be combined with pads {Fmt(pads)}");
        return (kernel, Triple(c, "strides", 1), Triple(c, "dilations", 1), pads[..3].Select(p => (int)p).ToArray(),
            pads[3..].Select(p => (int)p).ToArray());
    }

    private static int[] Triple(OpContext c, string name, int fallback)
    {
        long[]? v = c.Ints(name);
        if (v is null) return [fallback, fallback, fallback];
        if (v.Length != 3 || v.Any(x => x < (fallback == 0 ? 0 : 1)))
            throw c.Error($"{name} {Fmt(v)} must have 3 values of at least {(fallback == 0 ? 0 : 1)} for a 3-D convolution");
        return v.Select(x => checked((int)x)).ToArray();
    }

    private static string Fmt<T>(IEnumerable<T> v) => $"[{string.Join(", ", v)}]";

    public override string ToString() =>
        $"N{N} C{C} {string.Join("x", Size)} -> M{M} {string.Join("x", Out)}, kernel {string.Join("x", Kernel)}, group {Group}";
}

/// <summary>Push constants of the 3-D conv kernels, mirrored by shaders/common/conv3d_params.glsl (100 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Conv3dParams
{
    public uint N, C, D, H, W, M, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW;
    public int PD, PH, PW;
    public uint CG, MG;
    public float Alpha, Beta;

    public static int Size => Marshal.SizeOf<Conv3dParams>();
}
