using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Infrastructure;

/// <summary>
/// A naive CPU interpreter (double precision) for the CNN ops the network tests use, written for
/// the tests: the whole-network reference the GPU sessions are compared with.
/// </summary>
public static class CpuNetwork
{
    private sealed record T(int[] Shape, double[] Data)
    {
        public int this[int axis] => Shape[axis];
    }

    public static float[] Run(IrGraph graph, float[] input)
    {
        var values = new Dictionary<string, T>();
        values[graph.Inputs[0].Name] = new T(graph.Inputs[0].Shape.Dimensions.ToArray(), input.Select(v => (double)v).ToArray());
        foreach (var (name, c) in graph.Initializers)
            values[name] = new T(c.Shape.Dimensions.ToArray(), c.AsFloats().Select(v => (double)v).ToArray());
        foreach (var node in graph.TopologicalOrder())
        {
            T In(int i) => values[node.Inputs[i]];
            var a = node.Attributes;
            values[node.Outputs[0]] = node.OpType switch
            {
                "Conv" => Conv(In(0), In(1), node.HasInput(2) ? In(2) : null, a),
                "BatchNormalization" => BatchNorm(In(0), In(1), In(2), In(3), In(4), a.Float("epsilon", 1e-5f)),
                "Relu" => Map(In(0), v => Math.Max(v, 0)),
                "Clip" => Map(In(0), v => Math.Min(Math.Max(v, a.Float("min", float.MinValue)), a.Float("max", float.MaxValue))),
                "Add" => Add(In(0), In(1)),
                "MaxPool" => Pool(In(0), a, max: true),
                "AveragePool" => Pool(In(0), a, max: false),
                "GlobalAveragePool" => GlobalAverage(In(0)),
                "Flatten" => new T([In(0)[0], In(0).Data.Length / In(0)[0]], In(0).Data),
                "Gemm" => Linear(In(0), In(1), node.HasInput(2) ? In(2) : null),
                "Concat" => Concat(node.Inputs.Select(i => values[i]).ToList()),
                _ => throw new NotSupportedException("CPU reference has no " + node.OpType),
            };
        }
        return values[graph.Outputs[0]].Data.Select(v => (float)v).ToArray();
    }

    private static T Map(T x, Func<double, double> f) => new(x.Shape, x.Data.Select(f).ToArray());

    private static T Add(T x, T y)
    {
        if (!x.Shape.SequenceEqual(y.Shape)) throw new NotSupportedException("CPU reference adds equal shapes only");
        return new T(x.Shape, x.Data.Zip(y.Data, (p, q) => p + q).ToArray());
    }

    private static T Conv(T x, T w, T? b, VulkanCnn.Ir.Attributes a)
    {
        int n = x[0], cin = x[1], h = x[2], wd = x[3], cout = w[0], cpg = w[1], kh = w[2], kw = w[3];
        int groups = (int)a.Int("group", 1);
        var s = a.Ints("strides") ?? [1, 1];
        var d = a.Ints("dilations") ?? [1, 1];
        var p = a.Ints("pads") ?? [0, 0, 0, 0];
        int oh = (int)((h + p[0] + p[2] - d[0] * (kh - 1) - 1) / s[0] + 1), ow = (int)((wd + p[1] + p[3] - d[1] * (kw - 1) - 1) / s[1] + 1);
        var y = new double[n * cout * oh * ow];
        int opg = cout / groups;
        for (int b0 = 0; b0 < n; b0++)
            for (int co = 0; co < cout; co++)
            {
                int g = co / opg;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double sum = b?.Data[co] ?? 0;
                        for (int ci = 0; ci < cpg; ci++)
                            for (int ky = 0; ky < kh; ky++)
                            {
                                long iy = oy * s[0] - p[0] + ky * d[0];
                                if (iy < 0 || iy >= h) continue;
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    long ix = ox * s[1] - p[1] + kx * d[1];
                                    if (ix < 0 || ix >= wd) continue;
                                    sum += x.Data[((b0 * cin + g * cpg + ci) * h + iy) * wd + ix]
                                        * w.Data[((co * cpg + ci) * kh + ky) * kw + kx];
                                }
                            }
                        y[((b0 * cout + co) * oh + oy) * ow + ox] = sum;
                    }
            }
        return new T([n, cout, oh, ow], y);
    }

    private static T BatchNorm(T x, T gamma, T beta, T mean, T var, double eps)
    {
        int c = x[1], plane = x.Data.Length / x[0] / c;
        var y = new double[x.Data.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int ch = i / plane % c;
            y[i] = (x.Data[i] - mean.Data[ch]) / Math.Sqrt(var.Data[ch] + eps) * gamma.Data[ch] + beta.Data[ch];
        }
        return new T(x.Shape, y);
    }

    private static T Pool(T x, VulkanCnn.Ir.Attributes a, bool max)
    {
        var k = a.Ints("kernel_shape")!;
        var s = a.Ints("strides") ?? [1, 1];
        var p = a.Ints("pads") ?? [0, 0, 0, 0];
        bool includePad = a.Int("count_include_pad", 0) != 0;
        int n = x[0], c = x[1], h = x[2], w = x[3];
        int oh = (int)((h + p[0] + p[2] - k[0]) / s[0] + 1), ow = (int)((w + p[1] + p[3] - k[1]) / s[1] + 1);
        var y = new double[n * c * oh * ow];
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    double acc = max ? double.NegativeInfinity : 0;
                    int count = 0;
                    for (int ky = 0; ky < k[0]; ky++)
                        for (int kx = 0; kx < k[1]; kx++)
                        {
                            long iy = oy * s[0] - p[0] + ky, ix = ox * s[1] - p[1] + kx;
                            bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                            if (inside || includePad) count++;
                            if (!inside) continue;
                            double v = x.Data[(plane * h + iy) * w + ix];
                            acc = max ? Math.Max(acc, v) : acc + v;
                        }
                    y[(plane * oh + oy) * ow + ox] = max ? acc : acc / count;
                }
        return new T([n, c, oh, ow], y);
    }

    private static T GlobalAverage(T x)
    {
        int plane = x[2] * x[3];
        return new T([x[0], x[1], 1, 1],
            Enumerable.Range(0, x[0] * x[1]).Select(i => x.Data.Skip(i * plane).Take(plane).Average()).ToArray());
    }

    private static T Linear(T x, T w, T? b)
    {
        int n = x[0], inF = x[1], outF = w[0];
        var y = new double[n * outF];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < outF; o++)
            {
                double s = b?.Data[o] ?? 0;
                for (int k = 0; k < inF; k++) s += x.Data[i * inF + k] * w.Data[o * inF + k];
                y[i * outF + o] = s;
            }
        return new T([n, outF], y);
    }

    private static T Concat(IReadOnlyList<T> xs)
    {
        int n = xs[0][0], plane = xs[0][2] * xs[0][3], c = xs.Sum(t => t[1]);
        var y = new double[n * c * plane];
        int offset = 0;
        foreach (var t in xs)
        {
            for (int b = 0; b < n; b++)
                Array.Copy(t.Data, b * t[1] * plane, y, (b * c + offset) * plane, t[1] * plane);
            offset += t[1];
        }
        return new T([n, c, xs[0][2], xs[0][3]], y);
    }
}
