using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// 1-D and 3-D MaxPool / AveragePool, forward and backward, against a double reference written here over any number of spatial
/// axes (max: the first maximum in window order takes the gradient; average: divided by the taps inside the input, or inside
/// the padded extent with count_include_pad), whose backward is checked by central finite differences.
/// </summary>
public sealed class PoolNdTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>One pooling problem: [N, C, sizes…], kernel, strides, dilations, pads (begins then ends), ceil_mode.</summary>
    public sealed record Case(string Op, int[] Shape, int[] K, int[] S, int[] D, int[] P, bool Ceil = false, bool IncludePad = false)
    {
        public int Axes => K.Length;
        public int[] Out => Enumerable.Range(0, Axes).Select(a =>
        {
            int span = Shape[2 + a] + P[a] + P[Axes + a], extent = (K[a] - 1) * D[a] + 1;
            int o = Ceil ? (span - extent + S[a] - 1) / S[a] + 1 : (span - extent) / S[a] + 1;
            return Ceil && (o - 1) * S[a] >= Shape[2 + a] + P[a] ? o - 1 : o;
        }).ToArray();
        public TensorShape XShape => new(Shape);
        public TensorShape YShape => new([Shape[0], Shape[1], .. Out]);

        public Attributes Attributes()
        {
            var a = new Attributes().Set("kernel_shape", K).Set("strides", S).Set("dilations", D).Set("pads", P)
                .Set("ceil_mode", Ceil ? 1 : 0);
            if (Op == "AveragePool") a.Set("count_include_pad", IncludePad ? 1 : 0);
            return a;
        }
    }

    public static readonly Dictionary<string, Case> Cases = new()
    {
        ["max_1d_k3_s2_pads"] = new("MaxPool", [2, 3, 11], [3], [2], [1], [1, 1]),
        ["avg_1d_dilation2_ceil_include_pad"] = new("AveragePool", [1, 4, 10], [3], [2], [2], [1, 2], Ceil: true, IncludePad: true),
        ["max_3d_k2_s2"] = new("MaxPool", [2, 2, 4, 5, 6], [2, 2, 2], [2, 2, 2], [1, 1, 1], [0, 0, 0, 0, 1, 0]),
        ["max_3d_overlapping_dilated"] = new("MaxPool", [1, 3, 5, 6, 5], [3, 2, 3], [1, 2, 2], [1, 2, 1], [1, 0, 1, 1, 1, 1]),
        ["avg_3d_pads_exclude"] = new("AveragePool", [2, 2, 5, 4, 6], [3, 3, 2], [2, 1, 2], [1, 1, 1], [1, 1, 0, 1, 1, 1]),
        ["avg_3d_include_pad_ceil"] = new("AveragePool", [1, 3, 6, 5, 4], [2, 3, 3], [2, 2, 1], [1, 1, 1], [1, 0, 1, 0, 1, 1],
            Ceil: true, IncludePad: true),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    /// <summary>Per output: (value, the input index the max came from, the average's divisor), in window order.</summary>
    private static (double[] Y, int[] Arg, int[] Div) Forward(Case c, double[] x)
    {
        int planes = c.Shape[0] * c.Shape[1], inSize = c.Shape[2..].Aggregate(1, (p, v) => p * v);
        int[] o = c.Out;
        int outSize = o.Aggregate(1, (p, v) => p * v), taps = c.K.Aggregate(1, (p, v) => p * v);
        var (y, arg, div) = (new double[planes * outSize], new int[planes * outSize], new int[planes * outSize]);
        var pos = new int[c.Axes];
        var k = new int[c.Axes];
        for (int plane = 0; plane < planes; plane++)
            for (int op = 0; op < outSize; op++)
            {
                Unravel(op, o, pos);
                int index = plane * outSize + op, inside = 0, padded = 0, best = -1;
                double acc = c.Op == "MaxPool" ? double.NegativeInfinity : 0;
                for (int t = 0; t < taps; t++)
                {
                    Unravel(t, c.K, k);
                    int xi = 0;
                    bool isInside = true, inPadded = true;
                    for (int a = 0; a < c.Axes; a++)
                    {
                        int i = pos[a] * c.S[a] - c.P[a] + k[a] * c.D[a];
                        inPadded &= i < c.Shape[2 + a] + c.P[c.Axes + a];
                        isInside &= i >= 0 && i < c.Shape[2 + a];
                        xi = xi * c.Shape[2 + a] + i;
                    }
                    if (inPadded) padded++;
                    if (!isInside) continue;
                    xi += plane * inSize;
                    inside++;
                    if (c.Op != "MaxPool") acc += x[xi];
                    else if (x[xi] > acc) { acc = x[xi]; best = xi; }
                }
                div[index] = c.IncludePad ? padded : inside;
                arg[index] = best;
                y[index] = c.Op == "MaxPool" ? acc : acc / div[index];
            }
        return (y, arg, div);
    }

    private static double[] Backward(Case c, double[] x, double[] dy)
    {
        var (_, arg, div) = Forward(c, x);
        var dx = new double[x.Length];
        int outSize = c.Out.Aggregate(1, (p, v) => p * v), taps = c.K.Aggregate(1, (p, v) => p * v);
        int inSize = c.Shape[2..].Aggregate(1, (p, v) => p * v);
        var pos = new int[c.Axes];
        var k = new int[c.Axes];
        for (int index = 0; index < dy.Length; index++)
        {
            if (c.Op == "MaxPool") { dx[arg[index]] += dy[index]; continue; }
            Unravel(index % outSize, c.Out, pos);
            for (int t = 0; t < taps; t++)
            {
                Unravel(t, c.K, k);
                int xi = 0;
                bool inside = true;
                for (int a = 0; a < c.Axes; a++)
                {
                    int i = pos[a] * c.S[a] - c.P[a] + k[a] * c.D[a];
                    inside &= i >= 0 && i < c.Shape[2 + a];
                    xi = xi * c.Shape[2 + a] + i;
                }
                if (inside) dx[index / outSize * inSize + xi] += dy[index] / div[index];
            }
        }
        return dx;
    }

    private static void Unravel(int index, int[] dims, int[] into)
    {
        for (int a = dims.Length - 1; a >= 0; a--) { into[a] = index % dims[a]; index /= dims[a]; }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Reference_backward_matches_finite_differences(string name)
    {
        var c = Cases[name];
        var (x, _, dy) = Data(c, name.Length);
        var dx = Backward(c, x, dy);
        const double h = 1e-4;
        for (int i = 0; i < x.Length; i += 7)
        {
            double keep = x[i];
            x[i] = keep + h;
            double plus = Forward(c, x).Y.Zip(dy, (a, b) => a * b).Sum();
            x[i] = keep - h;
            double minus = Forward(c, x).Y.Zip(dy, (a, b) => a * b).Sum();
            x[i] = keep;
            Assert.True(Math.Abs((plus - minus) / (2 * h) - dx[i]) < 1e-6, $"{name}: dX[{i}] {dx[i]} vs {(plus - minus) / (2 * h)}");
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gpu_forward_and_backward_match_the_reference(string name)
    {
        var c = Cases[name];
        var (x, init, dy) = Data(c, name.Length + 1);
        var node = new Node(c.Op, "pool0", ["x"], ["y"], c.Attributes());
        var r = BackwardRunner.Run(Device, node, [new(HostTensor.FromFloats(c.XShape, F(x)))], [HostTensor.FromFloats(c.YShape, F(dy))],
            [true], training: true, [HostTensor.FromFloats(c.XShape, F(init))]);
        Assert.Equal(c.YShape, r.Outputs[0].Shape);
        Tolerance.AssertClose(F(Forward(c, x).Y), r.Outputs[0].Floats, Tolerance.Op, name + " forward");
        var expected = Backward(c, x, dy).Zip(init, (g, i) => g + i).ToArray();
        Tolerance.AssertClose(F(expected), r.InputGradients[0]!.Floats, Tolerance.Op, name + " dX (added to its initial value)");
    }

    [Theory]
    [InlineData("max_3d_overlapping_dilated")]
    [InlineData("avg_3d_include_pad_ceil")]
    public void Pool_3d_in_fp16_storage_matches_the_reference(string name)
    {
        var c = Cases[name];
        var x = Data(c, name.Length).X.Select(d => (double)(float)(Half)d).ToArray();
        var y = OpRunner.RunStored(DataType.Float16, Device, c.Op, c.Attributes(), In.Of(c.XShape, F(x)))[0];
        Tolerance.AssertClose(F(Forward(c, x).Y), y.Floats, Tolerance.Fp16Storage, name + " fp16");
    }

    /// <summary>Distinct float values (no ties for max to break), an initial dX and an upstream gradient.</summary>
    private static (double[] X, double[] Init, double[] Dy) Data(Case c, int seed)
    {
        int n = c.Shape.Aggregate(1, (p, v) => p * v), m = (int)c.YShape.ElementCount;
        var order = Reference.Random(n, seed).Select((v, i) => (v, i)).OrderBy(p => p.v).Select(p => p.i).ToArray();
        var x = new double[n];
        for (int rank = 0; rank < n; rank++) x[order[rank]] = (float)(rank * 2.0 / n - 1);
        return (x, Reference.Random(n, seed + 1).Select(v => (double)v).ToArray(),
            Reference.Random(m, seed + 2).Select(v => (double)v).ToArray());
    }

    private static float[] F(double[] v) => v.Select(d => (float)d).ToArray();
}
