using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>LRN, BatchNormalization, InstanceNormalization, LayerNormalization against double-precision references.</summary>
public sealed class NormalizationTests(GpuFixture gpu) : GpuTest(gpu)
{
    internal static float[] LrnRef(float[] x, int[] s, int size, double alpha, double beta, double bias)
    {
        int n = s[0], c = s[1], inner = x.Length / n / c;
        var y = new float[x.Length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < inner; i++)
                {
                    double sum = 0;
                    for (int j = ch - (size - 1) / 2; j <= ch + size / 2; j++)
                        if (j >= 0 && j < c) { double v = x[(b * c + j) * inner + i]; sum += v * v; }
                    double v0 = x[(b * c + ch) * inner + i];
                    y[(b * c + ch) * inner + i] = (float)(v0 / Math.Pow(bias + alpha / size * sum, beta));
                }
        return y;
    }

    [Theory]
    [InlineData(3, 1e-4f, 0.75f, 1f)]
    [InlineData(5, 1e-4f, 0.75f, 1f)]
    [InlineData(4, 0.5f, 0.6f, 2f)]   // even size: the window reaches one channel further up than down
    [InlineData(9, 2f, 0.75f, 1f)]    // window wider than the 7 channels
    public void Lrn_matches_reference(int size, float alpha, float beta, float bias)
    {
        int[] shape = [2, 7, 5, 3];
        var x = In.Random(shape, size, -3, 3);
        var y = Run1(Device, "LRN", Attrs(("size", size), ("alpha", alpha), ("beta", beta), ("bias", bias)), x);
        Assert.Equal(new TensorShape(shape), y.Shape);
        Tolerance.AssertClose(LrnRef(x.Data!, shape, size, alpha, beta, bias), y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Lrn_defaults_are_onnx_defaults()
    {
        int[] shape = [1, 7, 1, 1];
        var x = In.Random(shape, 3, -20, 20);
        var y = Run1(Device, "LRN", Attrs(("size", 5)), x);
        Tolerance.AssertClose(LrnRef(x.Data!, shape, 5, 1e-4, 0.75, 1), y.Floats, Tolerance.Op);
        Assert.Throws<GraphException>(() => Run1(Device, "LRN", null, x));
        Assert.Throws<GraphException>(() => Run1(Device, "LRN", Attrs(("size", 0)), x));
    }

    private static (In Scale, In B, In Mean, In Var) BnParams(int c, int seed) => (
        In.Weight([c], Reference.Random(c, seed, 0.5f, 2f)), In.Weight([c], Reference.Random(c, seed + 1)),
        In.Weight([c], Reference.Random(c, seed + 2, -0.5f, 0.5f)), In.Weight([c], Reference.Random(c, seed + 3, 0.1f, 3f)));

    internal static float[] BnRef(float[] x, int n, int c, float[] scale, float[] b, float[] mean, float[] var, double eps, Func<double,
        double> act)
    {
        int inner = x.Length / n / c;
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / inner % c;
            y[i] = (float)act((x[i] - (double)mean[ch]) / Math.Sqrt(var[ch] + eps) * scale[ch] + b[ch]);
        }
        return y;
    }

    [Theory]
    [InlineData(new[] { 2, 7, 5, 3 }, "None")]
    [InlineData(new[] { 2, 7, 5, 3 }, "Relu")]
    [InlineData(new[] { 3, 5 }, "LeakyRelu")]
    [InlineData(new[] { 1, 6, 1, 1 }, "Relu")]
    [InlineData(new[] { 2, 3, 9, 15 }, "Relu")]   // planes larger than a workgroup: the planar grid
    [InlineData(new[] { 2, 3, 8, 12 }, "LeakyRelu")] // planar, planes a multiple of 4: four elements per invocation
    public void BatchNormalization_matches_reference(int[] shape, string activation)
    {
        int c = shape[1];
        var x = In.Random(shape, 31, -2, 2);
        var (scale, b, mean, var) = BnParams(c, 40);
        var attrs = Attrs(("epsilon", 1e-3f));
        Func<double, double> act = v => v;
        if (activation == "Relu") { new FusedActivation(ActivationKind.Relu).WriteTo(attrs); act = v => Math.Max(v, 0); }
        if (activation == "LeakyRelu")
        {
            new FusedActivation(ActivationKind.LeakyRelu, 0.1f).WriteTo(attrs); act = v => v >= 0 ? v
            : 0.1 * v;
        }
        var y = Run1(Device, "BatchNormalization", attrs, x, scale, b, mean, var);
        var expected = BnRef(x.Data!, shape[0], c, scale.Data!, b.Data!, mean.Data!, var.Data!, 1e-3, act);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);
        if (activation == "Relu") Assert.Contains(0f, y.Floats!);   // the activation really ran
    }

    [Fact]
    public void BatchNormalization_default_epsilon_and_traits()
    {
        Assert.True(OperatorRegistry.TryGet("BatchNormalization", out var op));
        Assert.True(op.Traits(new Node("BatchNormalization", "bn", [], [])).HasFlag(OperatorTraits.AcceptsFusedActivation));
        int[] shape = [1, 3, 2, 2];
        var x = In.Random(shape, 5);
        var p = (In.Weight([3], [1f, 2f, 3f]), In.Weight([3], [0f, 0f, 1f]), In.Weight([3], [0f, 0.5f, 0f]), In.Weight([3], [0f, 1f, 4f]));
        var y = Run1(Device, "BatchNormalization", null, x, p.Item1, p.Item2, p.Item3, p.Item4);
        Tolerance.AssertClose(BnRef(x.Data!, 1, 3, [1f, 2f, 3f], [0f, 0f, 1f], [0f, 0.5f, 0f], [0f, 1f, 4f], 1e-5, v => v), y.Floats,
            Tolerance.Op);
    }

    [Fact]
    public void FoldParameters_gives_scale_and_shift()
    {
        var (s, t) = BatchNormalization.FoldParameters([2f, 4f], [1f, -1f], [3f, 0f], [3f, 3f], 1f);
        Assert.Equal([1f, 2f], s);
        Assert.Equal([-2f, -1f], t);
        Assert.Throws<ArgumentException>(() => BatchNormalization.FoldParameters([1f, 2f], [1f], [1f, 2f], [1f, 2f], 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNormalization.FoldParameters([1f], [1f], [1f], [-1f], 1e-5f));
    }

    [Fact]
    public void Bad_batch_norm_parameters_are_rejected_clearly()
    {
        var x = In.Random([2, 4, 3, 3], 6);
        var (scale, b, mean, var) = BnParams(4, 50);
        var e = Assert.Throws<GraphException>(() =>
            Run1(Device, "BatchNormalization", null, x, scale, In.Weight([3], [1f, 2f, 3f]), mean, var));
        Assert.Contains("batchnormalization0", e.Message);
        Assert.Contains("B (input 2)", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[2, 4, 3, 3]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "BatchNormalization", null, x, scale, b, mean, In.Weight([4], [1f, -2f, 1f, 1f])));
        Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "BatchNormalization", Attrs(("spatial", 0)), x, scale, b, mean, var));
    }

    internal static float[] InstanceNormRef(float[] x, int n, int c, float[] scale, float[] b, double eps)
    {
        int size = x.Length / n / c;
        var y = new float[x.Length];
        for (int p = 0; p < n * c; p++)
        {
            var plane = x.Skip(p * size).Take(size).Select(v => (double)v).ToArray();
            double mean = plane.Average(), var = plane.Select(v => (v - mean) * (v - mean)).Average();
            for (int i = 0; i < size; i++)
                y[p * size + i] = (float)((plane[i] - mean) / Math.Sqrt(var + eps) * scale[p % c] + b[p % c]);
        }
        return y;
    }

    [Theory]
    [InlineData(new[] { 2, 5, 7, 9 }, 0f)]
    [InlineData(new[] { 2, 3, 33, 41 }, 0f)]    // planes larger than a workgroup
    [InlineData(new[] { 1, 3, 10 }, 0f)]         // 1-D spatial
    [InlineData(new[] { 2, 3, 17, 19 }, 1000f)]  // a large common offset: variance must not cancel
    public void InstanceNormalization_matches_reference(int[] shape, float offset)
    {
        int c = shape[1];
        var data = Reference.Random(shape.Aggregate(1, (a, v) => a * v), 60).Select(v => v + offset).ToArray();
        var scale = In.Random([c], 61, 0.5f, 2f);
        var b = In.Random([c], 62);
        var y = Run1(Device, "InstanceNormalization", Attrs(("epsilon", 1e-4f)), In.Of(shape, data), scale, b);
        Tolerance.AssertClose(InstanceNormRef(data, shape[0], c, scale.Data!, b.Data!, 1e-4), y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Bad_instance_norm_parameters_are_rejected()
    {
        var x = In.Random([2, 4, 3, 3], 6);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "InstanceNormalization", null, x, In.Random([4], 1), In.Random([5], 2)));
        Assert.Contains("[5]", e.Message);
        Assert.Throws<GraphException>(() =>
            Run1(Device, "InstanceNormalization", null, In.Random([2, 4], 3), In.Random([4], 1), In.Random([4], 2)));
    }

    internal static float[] LayerNormRef(float[] x, int size, float[] scale, float[]? b, double eps)
    {
        var y = new float[x.Length];
        for (int r = 0; r < x.Length / size; r++)
        {
            var row = x.Skip(r * size).Take(size).Select(v => (double)v).ToArray();
            double mean = row.Average(), var = row.Select(v => (v - mean) * (v - mean)).Average();
            for (int i = 0; i < size; i++)
                y[r * size + i] = (float)((row[i] - mean) / Math.Sqrt(var + eps) * scale[i] + (b?[i] ?? 0));
        }
        return y;
    }

    [Theory]
    [InlineData(new[] { 2, 5, 7 }, -1, new[] { 7 }, true, 0f)]
    [InlineData(new[] { 2, 5, 7 }, 1, new[] { 5, 7 }, true, 0f)]
    [InlineData(new[] { 2, 3, 4, 5 }, -3, new[] { 1, 3, 4, 5 }, false, 0f)]   // negative axis, leading-1 scale, no B
    [InlineData(new[] { 3, 197 }, -1, new[] { 197 }, true, 500f)]              // a row larger than a workgroup, large offset
    [InlineData(new[] { 4, 1 }, 1, new[] { 1 }, true, 0f)]                     // rows of one value
    public void LayerNormalization_matches_reference(int[] shape, int axis, int[] paramShape, bool bias, float offset)
    {
        int count = shape.Aggregate(1, (a, v) => a * v);
        int size = paramShape.Aggregate(1, (a, v) => a * v);
        var data = Reference.Random(count, 70).Select(v => v + offset).ToArray();
        var scale = In.Random(paramShape, 71, 0.5f, 2f);
        var b = bias ? In.Random(paramShape, 72) : null;
        var attrs = Attrs(("axis", axis), ("epsilon", 1e-5f));
        var y = bias ? Run1(Device, "LayerNormalization", attrs, In.Of(shape, data), scale, b)
                     : Run1(Device, "LayerNormalization", attrs, In.Of(shape, data), scale);
        Assert.Equal(new TensorShape(shape), y.Shape);
        Tolerance.AssertClose(LayerNormRef(data, size, scale.Data!, b?.Data, 1e-5), y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Bad_layer_norm_arguments_are_rejected()
    {
        var x = In.Random([2, 3, 4], 8);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "LayerNormalization", null, x, In.Random([3], 1)));
        Assert.Contains("Scale (input 1)", e.Message);
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "LayerNormalization", Attrs(("axis", 3)), x, In.Random([4], 1)));
        Assert.Throws<GraphException>(() => Run1(Device, "LayerNormalization", null, x, In.Random([4], 1), In.Random([5], 2)));
        var u = Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "LayerNormalization", Attrs(("stash_type", 10)), x, In.Random([4], 1)));
        Assert.Contains("stash_type", u.Message);
    }

    [Theory]
    [InlineData(new[] { 2, 5, 7 }, -1, "y,mean,inv_std")]
    [InlineData(new[] { 2, 3, 4, 5 }, 1, "y,mean,inv_std")]
    [InlineData(new[] { 3, 4 }, 0, "y,mean,inv_std")]          // one row: statistics [1, 1]
    [InlineData(new[] { 2, 3, 70 }, 2, "y,,inv_std")]          // Mean omitted; a row wider than a workgroup
    [InlineData(new[] { 5, 3 }, -1, "y,mean")]
    public void LayerNormalization_mean_and_inv_std_dev_outputs(int[] shape, int axis, string outputs)
    {
        int count = shape.Aggregate(1, (a, v) => a * v);
        int a = axis < 0 ? axis + shape.Length : axis;
        int size = shape.Skip(a).Aggregate(1, (p, v) => p * v), rows = count / size;
        var x = Reference.Random(count, 73).Select(v => v * 3 + 1).ToArray();
        var scale = Reference.Random(size, 74, 0.5f, 2f);
        var node = new Node("LayerNormalization", "ln", ["x", "s"], outputs.Split(','), Attrs(("axis", axis), ("epsilon", 1e-3f)));
        var results = NodeRunner.Run(Device, node, [new(HostTensor.FromFloats(shape, x)), new(HostTensor.FromFloats(shape[a..], scale))]);
        var statShape = new TensorShape([.. shape[..a], .. Enumerable.Repeat(1, shape.Length - a)]);
        var mean = new float[rows];
        var invStd = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Skip(r * size).Take(size).Select(v => (double)v).ToArray();
            double m = row.Average(), v = row.Select(e => (e - m) * (e - m)).Average();
            mean[r] = (float)m;
            invStd[r] = (float)(1 / Math.Sqrt(v + 1e-3));
        }
        Assert.Equal(node.Outputs.Count, results.Count);
        Tolerance.AssertClose(LayerNormRef(x, size, scale, null, 1e-3), results[0].Floats, Tolerance.Op);
        for (int k = 1; k < node.Outputs.Count; k++)
        {
            if (node.Outputs[k].Length == 0) continue;
            Assert.Equal(statShape, results[k].Shape);
            Tolerance.AssertClose(k == 1 ? mean : invStd, results[k].Floats, Tolerance.Op);
        }
    }
}
