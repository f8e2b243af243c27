using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool against a naive double-precision reference.</summary>
public sealed class PoolTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>Window pooling in double. Pads are (top, left, bottom, right); a tap counts for
    /// count_include_pad when it lies inside [-pad_begin, size + pad_end).</summary>
    internal static float[] PoolRef(float[] x, int[] s, int[] k, int[] st, int[] d, int[] pads, int oh, int ow, bool max, bool includePad)
    {
        int n = s[0], c = s[1], h = s[2], w = s[3];
        var y = new float[n * c * oh * ow];
        for (int p = 0; p < n * c; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    double acc = max ? double.NegativeInfinity : 0;
                    int inside = 0, padded = 0;
                    for (int ky = 0; ky < k[0]; ky++)
                        for (int kx = 0; kx < k[1]; kx++)
                        {
                            int yy = oy * st[0] - pads[0] + ky * d[0];
                            int xx = ox * st[1] - pads[1] + kx * d[1];
                            if (yy < h + pads[2] && xx < w + pads[3]) padded++;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            double v = x[(p * h + yy) * w + xx];
                            acc = max ? Math.Max(acc, v) : acc + v;
                            inside++;
                        }
                    y[(p * oh + oy) * ow + ox] = (float)(max ? acc : acc / (includePad ? padded : inside));
                }
        return y;
    }

    /// <summary>ONNX output size for explicit pads, with the ceil_mode rule that the last window starts inside the input or left
    /// padding.</summary>
    internal static int OutSize(int size, int k, int s, int d, int begin, int end, bool ceil)
    {
        int extent = (k - 1) * d + 1;
        double exact = (double)(size + begin + end - extent) / s;
        int o = (ceil ? (int)Math.Ceiling(exact) : (int)Math.Floor(exact)) + 1;
        if (ceil && (o - 1) * s >= size + begin) o--;
        return o;
    }

    public static TheoryData<string, int[], int[], int[], int[], int[], bool, bool> WindowCases => new()
    {
        // op, input, kernel, strides, dilations, pads (t, l, b, r), ceil_mode, count_include_pad
        { "MaxPool", [2, 5, 9, 11], [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], false, false },       // ResNet stem, odd sizes
        { "MaxPool", [2, 3, 10, 13], [2, 3], [3, 4], [1, 1], [0, 1, 1, 0], false, false },      // stride > kernel, one-sided pads
        { "MaxPool", [1, 6, 11, 9], [3, 2], [1, 2], [2, 3], [2, 0, 1, 2], false, false },       // dilated, asymmetric pads
        { "MaxPool", [2, 3, 10, 7], [3, 3], [2, 2], [1, 1], [0, 0, 0, 0], true, false },        // ceil_mode adds a row/column
        { "MaxPool", [1, 7, 5, 5], [2, 2], [2, 2], [1, 1], [1, 1, 1, 1], true, false },         // ceil rule drops the padding-only window
        { "MaxPool", [2, 3, 1, 1], [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], false, false },        // 1x1 spatial
        { "MaxPool", [1, 5, 1, 1], [2, 2], [1, 1], [1, 1], [1, 0, 0, 1], false, false },        // 1x1 spatial, one-sided pads
        { "MaxPool", [2, 33001, 2, 1], [2, 1], [1, 1], [1, 1], [0, 0, 0, 0], false, false },    // more planes than the grid's z limit
        { "AveragePool", [2, 5, 9, 11], [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], false, false },
        { "AveragePool", [2, 5, 9, 11], [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], false, true },
        { "AveragePool", [2, 3, 8, 13], [2, 4], [3, 5], [1, 1], [1, 0, 0, 2], false, true },   // stride > kernel, one-sided pads
        { "AveragePool", [2, 3, 8, 13], [2, 4], [3, 5], [1, 1], [1, 0, 0, 2], false, false },
        { "AveragePool", [1, 6, 10, 7], [3, 3], [2, 2], [1, 1], [1, 0, 0, 1], true, true },     // ceil overhang not counted
        { "AveragePool", [1, 6, 10, 7], [3, 3], [2, 2], [1, 1], [1, 0, 0, 1], true, false },
        { "AveragePool", [2, 9, 7, 7], [7, 7], [1, 1], [1, 1], [0, 0, 0, 0], false, false },   // a global window
        { "AveragePool", [1, 5, 9, 8], [3, 2], [1, 1], [2, 2], [2, 1, 2, 1], false, true },   // dilated (opset 19)
    };

    [Theory]
    [MemberData(nameof(WindowCases))]
    public void Window_pooling_matches_reference(string op, int[] shape, int[] k, int[] st, int[] d, int[] pads, bool ceil, bool includePad)
    {
        var x = In.Random(shape, 11 + shape.Sum() + k.Sum());
        var attrs = Attrs(("kernel_shape", k), ("strides", st), ("pads", pads), ("ceil_mode", ceil ? 1 : 0));
        if (d.Any(v => v != 1)) attrs.Set("dilations", d);
        if (op == "AveragePool") attrs.Set("count_include_pad", includePad ? 1 : 0);
        var y = Run1(Device, op, attrs, x);

        int oh = OutSize(shape[2], k[0], st[0], d[0], pads[0], pads[2], ceil);
        int ow = OutSize(shape[3], k[1], st[1], d[1], pads[1], pads[3], ceil);
        Assert.Equal(new TensorShape(shape[0], shape[1], oh, ow), y.Shape);
        Tolerance.AssertClose(PoolRef(x.Data!, shape, k, st, d, pads, oh, ow, op == "MaxPool", includePad), y.Floats, Tolerance.Op);
    }

    [Theory]
    [InlineData(false, 4, 3)]
    [InlineData(true, 5, 4)]
    public void Ceil_mode_changes_the_output_size(bool ceil, int expectedH, int expectedW)
    {
        // H: (10 - 3) / 2 = 3.5 → 4 or 5 rows; W: (8 - 3) / 2 = 2.5 → 3 or 4 columns.
        var x = In.Random([1, 2, 10, 8], 3);
        var y = Run1(Device, "MaxPool", Attrs(("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("ceil_mode", ceil ? 1 : 0)),
            x);
        Assert.Equal(new TensorShape(1, 2, expectedH, expectedW), y.Shape);
        Tolerance.AssertClose(PoolRef(x.Data!, [1, 2, 10, 8], [3, 3], [2, 2], [1, 1], [0, 0, 0, 0], expectedH, expectedW, true, false),
            y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Ceil_mode_never_starts_a_window_in_the_right_padding()
    {
        // 5 + 1 + 1 = 7 padded, k 2, s 2: ceil((7-2)/2)+1 = 4 windows, but the 4th would start at 6 ≥ 5 + 1 → 3.
        var y = Run1(Device, "MaxPool",
            Attrs(("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 }), ("ceil_mode", 1)),
            In.Random([1, 1, 5, 5], 4));
        Assert.Equal(new TensorShape(1, 1, 3, 3), y.Shape);
    }

    [Theory]
    [InlineData("SAME_UPPER", "MaxPool")]
    [InlineData("SAME_LOWER", "MaxPool")]
    [InlineData("VALID", "MaxPool")]
    [InlineData("SAME_UPPER", "AveragePool")]
    [InlineData("SAME_LOWER", "AveragePool")]
    public void Auto_pad_modes_match_reference(string autoPad, string op)
    {
        int[] shape = [2, 3, 10, 9], k = [4, 3], st = [3, 2];
        var x = In.Random(shape, 21);
        var y = Run1(Device, op, Attrs(("kernel_shape", k), ("strides", st), ("auto_pad", autoPad)), x);
        int[] pads = new int[4];
        int[] outs = new int[2];
        for (int a = 0; a < 2; a++)
        {
            int size = shape[2 + a];
            if (autoPad == "VALID") { outs[a] = (size - k[a]) / st[a] + 1; continue; }
            outs[a] = (size + st[a] - 1) / st[a];
            int total = Math.Max(0, (outs[a] - 1) * st[a] + k[a] - size);
            pads[a] = autoPad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
            pads[2 + a] = total - pads[a];
        }
        Assert.Equal(new TensorShape(2, 3, outs[0], outs[1]), y.Shape);
        Tolerance.AssertClose(PoolRef(x.Data!, shape, k, st, [1, 1], pads, outs[0], outs[1], op == "MaxPool", false), y.Floats,
            Tolerance.Op);
    }

    [Theory]
    [InlineData(2, 7, 7, 7)]
    [InlineData(2, 5, 1, 1)]
    [InlineData(1, 6, 16, 13)]
    [InlineData(1, 3, 56, 56)]
    [InlineData(1, 1, 64, 80)]   // one large plane: the workgroup-per-plane kernel
    public void Global_pools_match_reference_with_every_variant(int n, int c, int h, int w)
    {
        var x = In.Random([n, c, h, w], n * 100 + c + h);
        var avgs = OpRunner.RunEachVariant(Device, "GlobalAveragePool", null, x);
        var maxes = OpRunner.RunEachVariant(Device, "GlobalMaxPool", null, x);
        Assert.Equal(["loop", "group"], avgs.Select(r => r.Variant));
        Assert.Equal(["loop", "group"], maxes.Select(r => r.Variant));
        var expAvg = new float[n * c];
        var expMax = new float[n * c];
        for (int p = 0; p < n * c; p++)
        {
            double s = 0, m = double.NegativeInfinity;
            for (int i = 0; i < h * w; i++) { s += x.Data![p * h * w + i]; m = Math.Max(m, x.Data[p * h * w + i]); }
            expAvg[p] = (float)(s / (h * w));
            expMax[p] = (float)m;
        }
        foreach (var (variant, avg) in avgs)
        {
            Assert.Equal(new TensorShape(n, c, 1, 1), avg.Shape);
            Tolerance.AssertClose(expAvg, avg.Floats, Tolerance.Op, $"GlobalAveragePool ({variant})");
        }
        foreach (var (variant, max) in maxes)
        {
            Assert.Equal(new TensorShape(n, c, 1, 1), max.Shape);
            Tolerance.AssertClose(expMax, max.Floats, Tolerance.Op, $"GlobalMaxPool ({variant})");
        }
    }

    [Fact]
    public void Global_max_of_all_negative_plane_is_its_maximum()
    {
        var data = Enumerable.Range(0, 2 * 200).Select(i => -1000f - i).ToArray();
        var y = Run1(Device, "GlobalMaxPool", null, In.Of([1, 2, 10, 20], data));
        Assert.Equal([-1000f, -1200f], y.Floats!);
    }

    [Fact]
    public void Bad_pooling_attributes_are_rejected_clearly()
    {
        var x = In.Random([1, 2, 4, 5], 5);
        var e = Assert.Throws<GraphException>(() =>
            Run1(Device, "MaxPool", Attrs(("kernel_shape", new[] { 4, 7 }), ("pads", new[] { 0, 1, 0, 0 })), x));
        Assert.Contains("maxpool0", e.Message);
        Assert.Contains("larger than the padded input", e.Message);
        Assert.Contains("[1, 2, 4, 5]", e.Message);
        // kernel_shape required
        Assert.Throws<GraphException>(() => Run1(Device, "MaxPool", null, x));
        Assert.Throws<GraphException>(() => Run1(Device, "MaxPool", Attrs(("kernel_shape", new[] { 2, 2 }), ("pads", new[] { 1, 1 })), x));
        Assert.Throws<GraphException>(() => Run1(Device, "AveragePool", Attrs(("kernel_shape", new[] { 2 })), x));
        Assert.Throws<GraphException>(() => Run1(Device, "MaxPool", Attrs(("kernel_shape", new[] { 2, 2 }), ("auto_pad", "SAME")), x));
        Assert.Throws<GraphException>(() =>
            Run1(Device, "MaxPool", Attrs(("kernel_shape", new[] { 2, 2 }), ("auto_pad", "VALID"), ("pads", new[] { 1, 1, 1, 1 })), x));
        Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "MaxPool", Attrs(("kernel_shape", new[] { 2, 2 }), ("pads", new[] { 2, 0, 0, 0 })), x));
        var e3 = Assert.Throws<UnsupportedAttributeException>(() =>
            Run1(Device, "MaxPool", Attrs(("kernel_shape", new[] { 2, 2, 2, 2 })), In.Random([1, 2, 3, 4, 5, 3], 6)));
        Assert.Contains("3-D", e3.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "GlobalAveragePool", null, In.Random([2, 3], 7)));
    }

    /// <summary>MaxPool's Indices: flat NCHW index of the first maximum in window order (row- or column-major within the plane).</summary>
    private static long[] ArgMaxRef(float[] x, int[] s, int[] k, int[] st, int[] d, int[] pads, int oh, int ow, bool columnMajor)
    {
        int planes = s[0] * s[1], h = s[2], w = s[3];
        var indices = new long[planes * oh * ow];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    long best = -1;
                    float bestValue = 0;
                    for (int a = 0; a < k[0]; a++)
                        for (int b = 0; b < k[1]; b++)
                        {
                            int r = i * st[0] - pads[0] + a * d[0], c = j * st[1] - pads[1] + b * d[1];
                            if (r < 0 || r >= h || c < 0 || c >= w) continue;
                            float v = x[(p * h + r) * w + c];
                            if (best < 0
                                || v > bestValue) { bestValue = v; best = (long)p * h * w + (columnMajor ? c * h + r : r * w + c); }
                        }
                    indices[(p * oh + i) * ow + j] = best;
                }
        return indices;
    }

    public static TheoryData<int[], int[], int[], int[], int[], int> IndexCases => new()
    {
        { [2, 3, 9, 11], [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], 0 },      // batch > 1, odd sizes
        { [1, 5, 10, 13], [2, 3], [3, 4], [1, 1], [0, 1, 1, 0], 1 },     // stride > kernel, one-sided pads, column-major
        { [2, 3, 11, 9], [3, 2], [1, 2], [2, 3], [2, 0, 1, 2], 0 },      // dilated, asymmetric pads
        { [1, 3, 7, 5], [2, 2], [1, 1], [1, 1], [0, 0, 0, 0], 1 },
        { [3, 2, 1, 1], [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 0 },       // 1x1 spatial
    };

    [Theory]
    [MemberData(nameof(IndexCases))]
    public void MaxPool_indices_match_reference(int[] shape, int[] k, int[] st, int[] d, int[] pads, int storageOrder)
    {
        // Values on a coarse grid, so that windows hold ties (the first in window order wins).
        var x = Reference.Random(NdIndex.Count(shape), 12 + shape.Sum()).Select(v => MathF.Round(v * 3)).ToArray();
        var attrs = Attrs(("kernel_shape", k), ("strides", st), ("pads", pads), ("storage_order", storageOrder));
        if (d.Any(v => v != 1)) attrs.Set("dilations", d);
        var node = new Node("MaxPool", "mp", ["x"], ["y", "indices"], attrs);
        var outputs = NodeRunner.Run(Device, node, [new NodeInput(HostTensor.FromFloats(shape, x))]);
        int oh = OutSize(shape[2], k[0], st[0], d[0], pads[0], pads[2], false);
        int ow = OutSize(shape[3], k[1], st[1], d[1], pads[1], pads[3], false);
        Assert.Equal(new TensorShape(shape[0], shape[1], oh, ow), outputs[1].Shape);
        Tolerance.AssertClose(PoolRef(x, shape, k, st, d, pads, oh, ow, true, false), outputs[0].Floats, Tolerance.Op);
        Assert.Equal(ArgMaxRef(x, shape, k, st, d, pads, oh, ow, storageOrder == 1), outputs[1].Floats!.Select(v => (long)v).ToArray());
    }

    [Fact]
    public void MaxPool_storage_order_must_be_0_or_1()
    {
        var node = new Node("MaxPool", "mp", ["x"], ["y", "indices"], Attrs(("kernel_shape", new[] { 2, 2 }), ("storage_order", 2)));
        var x = HostTensor.FromFloats([1, 1, 4, 4], Reference.Random(16, 8));
        var e = Assert.Throws<GraphException>(() => NodeRunner.Run(Device, node, [new NodeInput(x)]));
        Assert.Contains("storage_order", e.Message);
        Assert.Contains("mp", e.Message);
    }
}
