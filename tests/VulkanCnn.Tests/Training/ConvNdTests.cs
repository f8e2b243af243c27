using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;
using static VulkanCnn.Tests.Training.ConvGradReference;

namespace VulkanCnn.Tests.Training;

/// <summary>A Conv over any number of spatial axes (1-D NCL, 3-D NCDHW): sizes, kernel, strides, dilations, begin and end pads per
/// axis, groups, bias and a fused activation. Its taps are written here, axis by axis, for the double reference.</summary>
public sealed record ConvNdCase(int N, int C, int[] Size, int M, int[] Kernel, int[]? S = null, int[]? P = null, int[]? D = null,
    int Group = 1, bool Bias = true, string? Act = null, float Alpha = 0, float Beta = 0) : IConvGradCase
{
    public int Axes => Size.Length;
    public int[] Strides => S ?? Enumerable.Repeat(1, Axes).ToArray();
    public int[] Dilations => D ?? Enumerable.Repeat(1, Axes).ToArray();
    public int[] Pads => P ?? new int[2 * Axes];
    public int CG => C / Group;
    public int MG => M / Group;
    public int[] Out => Enumerable.Range(0, Axes)
        .Select(a => (Size[a] + Pads[a] + Pads[Axes + a] - (Kernel[a] - 1) * Dilations[a] - 1) / Strides[a] + 1).ToArray();
    private static int Product(int[] v) => v.Aggregate(1, (p, x) => p * x);
    /// <summary>The output's spatial values before its last axis (the reference finds a value's channel by OH · OW).</summary>
    public int OH => Product(Out[..^1]);
    public int OW => Out[^1];
    public int XCount => N * C * Product(Size);
    public int WCount => M * CG * Product(Kernel);
    public int YCount => N * M * Product(Out);
    public TensorShape XShape => new([N, C, .. Size]);
    public TensorShape WShape => new([M, CG, .. Kernel]);
    public TensorShape YShape => new([N, M, .. Out]);

    public void Taps(Action<int, int, int> visit)
    {
        int[] output = Out, taps = Kernel;
        int outCount = Product(output), tapCount = Product(taps);
        var o = new int[Axes];
        var k = new int[Axes];
        for (int n = 0; n < N; n++)
            for (int m = 0; m < M; m++)
                for (int op = 0; op < outCount; op++)
                {
                    Unravel(op, output, o);
                    for (int ci = 0; ci < CG; ci++)
                        for (int t = 0; t < tapCount; t++)
                        {
                            Unravel(t, taps, k);
                            int xi = 0;
                            bool inside = true;
                            for (int a = 0; a < Axes && inside; a++)
                            {
                                int i = o[a] * Strides[a] - Pads[a] + k[a] * Dilations[a];
                                inside = i >= 0 && i < Size[a];
                                xi = xi * Size[a] + i;
                            }
                            if (!inside) continue;
                            int ch = m / MG * CG + ci;
                            visit((n * C + ch) * Product(Size) + xi, (m * CG + ci) * tapCount + t, (n * M + m) * outCount + op);
                        }
                }
    }

    private static void Unravel(int index, int[] dims, int[] into)
    {
        for (int a = dims.Length - 1; a >= 0; a--)
        {
            into[a] = index % dims[a];
            index /= dims[a];
        }
    }

    public Attributes Attributes()
    {
        var a = new Attributes().Set("kernel_shape", Kernel).Set("strides", Strides).Set("dilations", Dilations).Set("pads", Pads)
            .Set("group", Group);
        ActivationReference.Set(a, Act, Alpha, Beta);
        return a;
    }
}

/// <summary>A 3-D ConvTranspose problem (pads given, no output_shape): its taps scatter each input element through the kernel,
/// o = i · stride + k · dilation − pad, written here for the double reference.</summary>
public sealed record ConvTranspose3dCase(int N, int C, int[] Size, int M, int[] Kernel, int[] S, int[] P, int[] D, int Group = 1,
    bool Bias = true, string? Act = null, float Alpha = 0, float Beta = 0) : IConvGradCase
{
    public int CG => C / Group;
    public int MG => M / Group;
    public int[] Out => Enumerable.Range(0, 3).Select(a => S[a] * (Size[a] - 1) + (Kernel[a] - 1) * D[a] + 1 - P[a] - P[3 + a]).ToArray();
    private static int Product(int[] v) => v.Aggregate(1, (p, x) => p * x);
    public int OH => Out[0] * Out[1];
    public int OW => Out[2];
    public int XCount => N * C * Product(Size);
    public int WCount => C * MG * Product(Kernel);
    public int YCount => N * M * Product(Out);

    public void Taps(Action<int, int, int> visit)
    {
        int[] o = Out;
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int iz = 0; iz < Size[0]; iz++)
                    for (int iy = 0; iy < Size[1]; iy++)
                        for (int ix = 0; ix < Size[2]; ix++)
                            for (int mi = 0; mi < MG; mi++)
                                for (int kz = 0; kz < Kernel[0]; kz++)
                                    for (int ky = 0; ky < Kernel[1]; ky++)
                                        for (int kx = 0; kx < Kernel[2]; kx++)
                                        {
                                            int oz = iz * S[0] + kz * D[0] - P[0], oy = iy * S[1] + ky * D[1] - P[1];
                                            int ox = ix * S[2] + kx * D[2] - P[2];
                                            if (oz < 0 || oy < 0 || ox < 0 || oz >= o[0] || oy >= o[1] || ox >= o[2]) continue;
                                            int m = c / CG * MG + mi;
                                            visit((((n * C + c) * Size[0] + iz) * Size[1] + iy) * Size[2] + ix,
                                                (((c * MG + mi) * Kernel[0] + kz) * Kernel[1] + ky) * Kernel[2] + kx,
                                                (((n * M + m) * o[0] + oz) * o[1] + oy) * o[2] + ox);
                                        }
    }

    public Attributes Attributes()
    {
        var a = new Attributes().Set("kernel_shape", Kernel).Set("strides", S).Set("dilations", D).Set("pads", P).Set("group", Group);
        ActivationReference.Set(a, Act, Alpha, Beta);
        return a;
    }
}

/// <summary>
/// 1-D and 3-D convolutions: every Conv variant's forward and the backward against the
/// double reference over the taps written above, which is itself checked by central finite differences.
/// </summary>
public sealed class ConvNdTests(GpuFixture gpu) : GpuTest(gpu)
{
    public static readonly Dictionary<string, ConvNdCase> Cases = new()
    {
        ["1d_k3_pads_relu_batch2"] = new(2, 3, [11], 5, [3], P: [1, 1], Act: "Relu"),
        ["1d_k5_stride2_one_sided"] = new(1, 6, [17], 7, [5], S: [2], P: [0, 3]),
        ["1d_dilation3_stride3_clip"] = new(2, 4, [20], 6, [3], S: [3], P: [2, 1], D: [3], Bias: false, Act: "Clip", Alpha: -0.3f,
            Beta: 0.4f),
        ["1d_groups2_leaky"] = new(1, 6, [9], 10, [3], P: [1, 2], Group: 2, Act: "LeakyRelu", Alpha: 0.1f),
        ["1d_depthwise_k7"] = new(2, 5, [13], 5, [7], P: [3, 3], Group: 5),
        ["1d_pointwise_channels17"] = new(2, 17, [6], 9, [1], Act: "Tanh"),
        ["1d_length1_k3"] = new(2, 4, [1], 3, [3], P: [1, 1]),
        ["3d_k3_pads_relu_batch2"] = new(2, 3, [4, 5, 6], 4, [3, 3, 3], P: [1, 1, 1, 1, 1, 1], Act: "Relu"),
        ["3d_k2x3x1_strides_one_sided"] = new(1, 4, [5, 7, 4], 5, [2, 3, 1], S: [2, 1, 3], P: [0, 1, 0, 1, 0, 2]),
        ["3d_dilation2_groups2_leaky"] = new(1, 4, [6, 5, 7], 6, [2, 2, 3], P: [1, 0, 2, 0, 1, 1], D: [2, 2, 1], Group: 2,
            Act: "LeakyRelu", Alpha: 0.1f),
        ["3d_depthwise_no_bias"] = new(2, 3, [3, 4, 5], 3, [3, 1, 3], P: [1, 0, 1, 1, 0, 1], Group: 3, Bias: false),
        ["3d_pointwise_sigmoid"] = new(1, 5, [2, 3, 3], 7, [1, 1, 1], Act: "Sigmoid"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    /// <summary>The Conv variants that can compute a case (asked of the operator): what
    /// <see cref="Every_variant_matches_the_reference_forward"/> runs for it.</summary>
    public static IEnumerable<string> VariantsOf(ConvNdCase c)
    {
        var node = new Node("Conv", "c", ["x", "w", "b"], ["y"], c.Attributes());
        var context = new VulkanCnn.Ops.OpContext(node, [c.XShape, c.WShape, new TensorShape(c.M)], [null, null, null]);
        VulkanCnn.Ops.OperatorRegistry.TryGet("Conv", out var op);
        var variants = (VulkanCnn.Ops.IKernelVariants)op;
        return variants.Variants.Where(v => variants.Refusal(v, context, null) is null);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Reference_backward_matches_finite_differences(string name) =>
        AssertBackwardMatchesFiniteDifferences(Cases[name], name.Length, name);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Every_variant_matches_the_reference_forward(string name)
    {
        var c = Cases[name];
        var (x, w, b, _) = Data(c, name.Length);
        var runs = RunEachVariant(Device, "Conv", c.Attributes(), In.Of(c.XShape, F(x)), In.Weight(c.WShape, F(w)),
            b is null ? null : In.Weight([c.M], F(b)));
        Assert.Contains(runs, r => r.Variant == (c.Axes == 3 ? "direct_3d" : "gemm"));
        var expected = F(Forward(c, x, w, b));
        foreach (var (variant, y) in runs)
        {
            Assert.Equal(c.YShape, y.Shape);
            Tolerance.AssertClose(expected, y.Floats, Tolerance.ForConvVariant(variant!), $"{name} ({variant})");
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gpu_backward_matches_the_reference(string name)
    {
        var c = Cases[name];
        var (x, w, b, dy) = Data(c, name.Length + 1);
        var node = new Node("Conv", "conv0", c.Bias ? ["x", "w", "b"] : ["x", "w"], ["y"], c.Attributes());
        List<NodeInput?> inputs = [new(HostTensor.FromFloats(c.XShape, F(x))), new(HostTensor.FromFloats(c.WShape, F(w)))];
        if (b is not null) inputs.Add(new(HostTensor.FromFloats([c.M], F(b))));
        var r = BackwardRunner.Run(Device, node, inputs, [HostTensor.FromFloats(c.YShape, F(dy))], [true, true, b is not null],
            training: true);
        AssertMatches(c, x, w, b, dy, r, name);
    }

    /// <summary>The 3-D kernels' fp16-storage builds, on half-exact data, within the stated fp16 bound.</summary>
    [Theory]
    [InlineData("3d_k3_pads_relu_batch2")]
    [InlineData("3d_dilation2_groups2_leaky")]
    public void Conv_3d_in_fp16_storage_matches_the_reference(string name)
    {
        var c = Cases[name];
        var (x, w, b, _) = Data(c, name.Length);
        double[] Half(double[] v) => v.Select(d => (double)(float)(Half)d).ToArray();
        (x, w, b) = (Half(x), Half(w), b is null ? null : Half(b));
        var y = RunStored(DataType.Float16, Device, "Conv", c.Attributes(), In.Of(c.XShape, F(x)), In.Weight(c.WShape, F(w)),
            b is null ? null : In.Weight([c.M], F(b)))[0];
        Tolerance.AssertClose(F(Forward(c, x, w, b)), y.Floats, Tolerance.Fp16Storage, name + " fp16");
    }

    public static readonly Dictionary<string, ConvTranspose3dCase> TransposeCases = new()
    {
        ["3d_transpose_stride2_pads_relu"] = new(2, 3, [3, 4, 2], 4, [3, 2, 3], S: [2, 2, 1], P: [1, 0, 1, 0, 1, 1], D: [1, 1, 1],
            Act: "Relu"),
        ["3d_transpose_groups2_dilation2"] = new(1, 4, [2, 3, 3], 6, [2, 2, 2], S: [1, 2, 2], P: [0, 1, 0, 1, 0, 0], D: [2, 1, 2],
            Group: 2, Bias: false),
    };

    public static TheoryData<string> TransposeCaseNames => new(TransposeCases.Keys);

    [Theory]
    [MemberData(nameof(TransposeCaseNames))]
    public void ConvTranspose_3d_forward_and_backward_match_the_reference(string name)
    {
        var c = TransposeCases[name];
        AssertBackwardMatchesFiniteDifferences(c, name.Length, name);
        var (x, w, b, dy) = Data(c, name.Length + 2);
        var node = new Node("ConvTranspose", "convt0", c.Bias ? ["x", "w", "b"] : ["x", "w"], ["y"], c.Attributes());
        TensorShape xs = new([c.N, c.C, .. c.Size]), ws = new([c.C, c.MG, .. c.Kernel]), ys = new([c.N, c.M, .. c.Out]);
        List<NodeInput?> inputs = [new(HostTensor.FromFloats(xs, F(x))), new(HostTensor.FromFloats(ws, F(w)))];
        if (b is not null) inputs.Add(new(HostTensor.FromFloats([c.M], F(b))));
        var r = BackwardRunner.Run(Device, node, inputs, [HostTensor.FromFloats(ys, F(dy))], [true, true, b is not null], training: true);
        Assert.Equal(ys, r.Outputs[0].Shape);
        AssertMatches(c, x, w, b, dy, r, name);
    }

    private static float[] F(double[] v) => v.Select(d => (float)d).ToArray();
}
