using System.Runtime.InteropServices;

namespace VulkanCnn.Ops;

/// <summary>
/// The resolved shape of a 2-D Conv / ConvTranspose node: NCHW input, M output channels, kernel,
/// strides, dilations, leading/trailing pads (auto_pad and output_shape already applied), groups.
/// A 1-D node (NCL input, MCk weights: the same bytes as NC1L and MC1k) is the 2-D one with H = 1, a 1-tall kernel, stride and
/// dilation 1 and no padding along H, so every 2-D kernel and its backward compute it unchanged.
/// </summary>
internal sealed record ConvGeometry(
    int N, int C, int H, int W, int M, int OH, int OW,
    int KH, int KW, int SH, int SW, int DH, int DW,
    int PadTop, int PadLeft, int PadBottom, int PadRight, int Group)
{
    /// <summary>Input channels per group.</summary>
    public int CG => C / Group;
    /// <summary>Output channels per group.</summary>
    public int MG => M / Group;
    public bool IsDepthwise => Group == C && Group > 1 && CG == 1;
    public bool IsPointwise => KH == 1 && KW == 1 && SH == 1 && SW == 1 && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;
    /// <summary>A 1-D node: its output is NCL.</summary>
    public bool OneD { get; init; }
    public TensorShape OutputShape => OneD ? new(N, M, OW) : new(N, M, OH, OW);
    /// <summary>Multiply-accumulates of the convolution (for FLOP counts and strategy choice).</summary>
    public long Macs => (long)N * M * OH * OW * CG * KH * KW;

    /// <summary>Push constants of the conv kernels (shaders/common/conv_params.glsl).</summary>
    internal ConvParams Params(FusedActivation activation, uint a = 0, uint b = 0, uint d = 0, uint e = 0, uint f = 0) => new()
    {
        N = (uint)N,
        C = (uint)C,
        H = (uint)H,
        W = (uint)W,
        M = (uint)M,
        OH = (uint)OH,
        OW = (uint)OW,
        KH = (uint)KH,
        KW = (uint)KW,
        SH = (uint)SH,
        SW = (uint)SW,
        DH = (uint)DH,
        DW = (uint)DW,
        PT = PadTop,
        PL = PadLeft,
        CG = (uint)CG,
        MG = (uint)MG,
        Alpha = activation.Alpha,
        Beta = activation.Beta,
        A = a,
        B = b,
        D = d,
        E = e,
        F = f,
    };

    public override string ToString() =>
        $"N{N} C{C} {H}x{W} -> M{M} {OH}x{OW}, kernel {KH}x{KW}, stride {SH}x{SW}, dilation {DH}x{DW}, pads [{PadTop}, {PadLeft}, " +
            $"{PadBottom}, {PadRight}], group {Group}";

    /// <summary>Geometry of a Conv node: X [N, C, H, W], W [M, C/group, kH, kW], optional B [M].</summary>
    public static ConvGeometry ForConv(OpContext c)
    {
        var (x, w, oneD) = Shapes(c, "Conv");
        int group = GroupOf(c);
        int n = x[0], ch = x[1], h = oneD ? 1 : x[2], wd = x[-1], m = w[0], kh = oneD ? 1 : w[2], kw = w[-1];
        if (ch % group != 0 || m % group != 0)
            throw c.Error($"group {group} must divide the input channels ({ch}, input X {x}) and the output channels ({m}, weights W {w})");
        if (w[1] != ch / group)
            throw c.Error($"weights W {w} have {w[1]} channels per group, but input X {x} with group {group} has {ch / group}");
        CheckKernelShape(c, kh, kw, w, oneD);
        CheckBias(c, m, w);
        var (sh, sw) = Pair(c, "strides", oneD);
        var (dh, dw) = Pair(c, "dilations", oneD);
        var (pt, pl, pb, pr) = Pads(c, oneD);
        string autoPad = AutoPad(c, pt, pl, pb, pr);
        int ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
        int oh, ow;
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            oh = (h + sh - 1) / sh;
            ow = (wd + sw - 1) / sw;
            (pt, pb) = Split(Math.Max(0, (oh - 1) * sh + ekh - h), autoPad == "SAME_UPPER");
            (pl, pr) = Split(Math.Max(0, (ow - 1) * sw + ekw - wd), autoPad == "SAME_UPPER");
        }
        else
        {
            oh = FloorDiv(h + pt + pb - ekh, sh) + 1;
            ow = FloorDiv(wd + pl + pr - ekw, sw) + 1;
        }
        if (oh < 1 || ow < 1)
            throw c.Error($"the {kh}x{kw} kernel (dilation {dh}x{dw}) does not fit the padded {h + pt + pb}x{wd + pl + pr} input X {x}");
        return new ConvGeometry(n, ch, h, wd, m, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group) { OneD = oneD };
    }

    /// <summary>Geometry of a ConvTranspose node: X [N, C, H, W], W [C, M/group, kH, kW], optional B [M]
    /// (M is the output channel count).</summary>
    public static ConvGeometry ForConvTranspose(OpContext c)
    {
        var (x, w, oneD) = Shapes(c, "ConvTranspose");
        int group = GroupOf(c);
        int n = x[0], ch = x[1], h = oneD ? 1 : x[2], wd = x[-1], m = w[1] * group, kh = oneD ? 1 : w[2], kw = w[-1];
        if (w[0] != ch)
            throw c.Error($"weights W {w} are for {w[0]} input channels, but input X {x} has {ch}");
        if (ch % group != 0)
            throw c.Error($"group {group} must divide the input channels of X {x}");
        CheckKernelShape(c, kh, kw, w, oneD);
        CheckBias(c, m, w);
        var (sh, sw) = Pair(c, "strides", oneD);
        var (dh, dw) = Pair(c, "dilations", oneD);
        var (oph, opw) = Pair(c, "output_padding", oneD, 0);
        if (oph >= Math.Max(sh, dh) || opw >= Math.Max(sw, dw))
            throw c.Error($"output_padding [{oph}, {opw}] must be smaller than the stride [{sh}, {sw}] or the dilation [{dh}, {dw}]");
        var (pt, pl, pb, pr) = Pads(c, oneD);
        string autoPad = AutoPad(c, pt, pl, pb, pr);
        int ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
        int fullH = sh * (h - 1) + oph + ekh, fullW = sw * (wd - 1) + opw + ekw;
        long[]? outputShape = c.Ints("output_shape");
        if (outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            int oh = h * sh, ow = wd * sw;
            if (outputShape is not null)
            {
                int spatial = oneD ? 1 : 2;
                if (outputShape.Length != spatial && outputShape.Length != spatial + 2)
                    throw c.Error($"output_shape [{string.Join(", ", outputShape)}] must list the {spatial} spatial sizes (or all " +
                        $"{spatial + 2} dimensions)");
                oh = oneD ? 1 : checked((int)outputShape[^2]);
                ow = checked((int)outputShape[^1]);
                if (oh < 1 || ow < 1) throw c.Error($"output_shape [{string.Join(", ", outputShape)}] has a non-positive size");
            }
            // Spec: SAME_UPPER puts the odd pad at the end; NOTSET and SAME_LOWER at the beginning.
            (pt, pb) = Split(fullH - oh, autoPad == "SAME_UPPER");
            (pl, pr) = Split(fullW - ow, autoPad == "SAME_UPPER");
        }
        int outH = fullH - pt - pb, outW = fullW - pl - pr;
        if (outH < 1 || outW < 1)
            throw c.Error(
                $"pads [{pt}, {pl}, {pb}, {pr}] leave no output for input X {x} with the {kh}x{kw} kernel and stride [{sh}, {sw}]");
        return new ConvGeometry(n, ch, h, wd, m, outH, outW, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group) { OneD = oneD };
    }

    private static (TensorShape X, TensorShape W, bool OneD) Shapes(OpContext c, string op)
    {
        var x = c.InputShape(0);
        var w = c.InputShape(1);
        if (x.Rank != w.Rank || x.Rank is not (3 or 4))
        {
            if (x.Rank == w.Rank && x.Rank > 5)
                throw c.Unsupported($"only 1-D, 2-D and 3-D {op} (NCL, NCHW or NCDHW input) is supported; input X {x}, weights W {w}");
            throw c.Error($"input X {x} and weights W {w} must both be 4-D (NCHW, MCkHkW) or both 3-D (NCL, MCk)");
        }
        return (x, w, x.Rank == 3);
    }

    private static int GroupOf(OpContext c)
    {
        long g = c.Int("group", 1);
        if (g < 1) throw c.Error($"group {g} must be at least 1");
        return checked((int)g);
    }

    private static void CheckKernelShape(OpContext c, int kh, int kw, TensorShape w, bool oneD)
    {
        if (c.Ints("kernel_shape") is { } ks && (oneD ? ks.Length != 1 || ks[0] != kw : ks.Length != 2 || ks[0] != kh || ks[1] != kw))
            throw c.Error($"kernel_shape [{string.Join(", ", ks)}] does not match weights W {w}");
    }

    internal static void CheckBias(OpContext c, int m, TensorShape w)
    {
        if (c.HasInput(2) && c.InputShape(2) is var b && (b.Rank != 1 || b[0] != m))
            throw c.Error($"bias B {b} must be [{m}] (one value per output channel; weights W {w})");
    }

    /// <summary>An attribute with one value per spatial axis, as (H, W); a 1-D node's single value is W's, H's the fallback.
    /// </summary>
    private static (int, int) Pair(OpContext c, string name, bool oneD, int fallback = 1)
    {
        long[]? v = c.Ints(name);
        if (v is null) return (fallback, fallback);
        int axes = oneD ? 1 : 2;
        if (v.Length != axes)
            throw c.Error($"{name} [{string.Join(", ", v)}] must have {axes} value{(oneD ? "" : "s")} for a {axes}-D convolution");
        int min = fallback == 0 ? 0 : 1;
        if (v.Any(x => x < min)) throw c.Error($"{name} [{string.Join(", ", v)}] must be at least {min}");
        return oneD ? (fallback, checked((int)v[0])) : (checked((int)v[0]), checked((int)v[1]));
    }

    private static (int, int, int, int) Pads(OpContext c, bool oneD)
    {
        long[]? p = c.Ints("pads");
        if (p is null) return (0, 0, 0, 0);
        if (p.Length != (oneD ? 2 : 4))
            throw c.Error($"pads [{string.Join(", ", p)}] must have " +
                (oneD ? "2 values [begin, end]" : "4 values [top, left, bottom, right]"));
        if (p.Any(v => v < 0)) throw c.Error($"pads [{string.Join(", ", p)}] must not be negative");
        return oneD ? (0, checked((int)p[0]), 0, checked((int)p[1]))
            : (checked((int)p[0]), checked((int)p[1]), checked((int)p[2]), checked((int)p[3]));
    }

    private static string AutoPad(OpContext c, int pt, int pl, int pb, int pr)
    {
        string autoPad = c.String("auto_pad") ?? "NOTSET";
        if (autoPad is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID"))
            throw c.Error($"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        if (autoPad != "NOTSET" && (pt | pl | pb | pr) != 0)
            throw c.Error($"auto_pad {autoPad} cannot be combined with explicit pads [{pt}, {pl}, {pb}, {pr}]");
        return autoPad;
    }

    /// <summary>Splits a total pad into (begin, end); the odd unit goes to the end when <paramref name="extraAtEnd"/>.
    /// Floor division, as in the ONNX reference, so a negative total (output_shape beyond the natural size) splits the same way.</summary>
    internal static (int, int) Split(int total, bool extraAtEnd)
    {
        int half = (int)Math.Floor(total / 2.0);
        return extraAtEnd ? (half, total - half) : (total - half, half);
    }

    private static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);
}

/// <summary>Push constants of the conv kernels, mirrored by shaders/common/conv_params.glsl (96 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ConvParams
{
    public uint N, C, H, W, M, OH, OW, KH, KW, SH, SW, DH, DW;
    public int PT, PL;
    public uint CG, MG;
    public float Alpha, Beta;
    public uint A, B, D, E, F;

    public static int Size => Marshal.SizeOf<ConvParams>();
}
