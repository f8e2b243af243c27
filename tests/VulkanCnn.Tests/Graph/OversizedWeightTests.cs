using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;
using StoragePrecision = VulkanCnn.Compiler.Precision;

namespace VulkanCnn.Tests.Graph;

/// <summary>
/// Weights larger than one storage-buffer binding: on a device whose binding limit is lowered to 64 KiB
/// (<see cref="GpuDeviceOptions.MaxBufferBytes"/>) every such Gemm, MatMul and Conv weight is split across buffers and the
/// result matches a double reference written here; a VGG-sized classifier runs at the real limit.
/// </summary>
public sealed class OversizedWeightTests(GpuFixture gpu) : LimitedBindingTest(gpu, 64 << 10)
{

    [Theory]
    [InlineData(1, false, 1)]
    [InlineData(3, true, 1)]
    [InlineData(3, false, 3)]   // C [M, N]: every row of the bias is cut with the weight
    [InlineData(5, true, 0)]    // C broadcast along N ([1]) is shared by the pieces
    public void Gemm_with_a_weight_past_the_limit_is_split_and_matches_the_reference(int m, bool transB, int biasRows)
    {
        const int k = 150, n = 230;   // 134.8 KiB of weight: three pieces of 32 KiB at most
        var a = Reference.Random(m * k, 1);
        var w = Reference.Random(k * n, 2);
        int cRows = biasRows == 0 ? 1 : biasRows, cCols = biasRows == 0 ? 1 : n;
        var c = Reference.Random(cRows * cCols, 3);
        var graph = new Ir.Graph { Name = "gemm" };
        graph.Inputs.Add(new ValueInfo("a", [m, k]));
        graph.Initializers["w"] = HostTensor.FromFloats(transB ? [n, k] : [k, n], transB ? Transpose(w, k, n) : w);
        graph.Initializers["c"] = HostTensor.FromFloats(biasRows == 0 ? [1] : biasRows == 1 ? [n] : [cRows, n], c);
        graph.Nodes.Add(new Node("Gemm", "fc", ["a", "w", "c"], ["y"],
            new Attributes().Set("transB", transB ? 1 : 0).Set("alpha", 0.5f).Set("beta", 2f)));
        graph.Nodes.Add(new Node("Relu", "relu", ["y"], ["out"]));
        graph.Outputs.Add("out");

        var expected = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int kk = 0; kk < k; kk++) sum += (double)a[i * k + kk] * w[kk * n + j];
                double bias = c[(cRows == 1 ? 0 : i) * cCols + (cCols == 1 ? 0 : j)];
                expected[i * n + j] = (float)Math.Max(0, 0.5 * sum + 2 * bias);
            }
        using var session = Small.Compile(graph, [m, k]);
        Assert.Equal(1, session.Passes.WeightsSplit);
        Tolerance.AssertClose(expected, session.Run(a), Tolerance.Op);
    }

    [Fact]
    public void MatMul_with_a_2D_weight_past_the_limit_is_split_along_its_columns()
    {
        const int k = 120, n = 200;
        var a = Reference.Random(2 * 3 * k, 4);
        var w = Reference.Random(k * n, 5);
        var graph = new Ir.Graph { Name = "matmul" };
        graph.Inputs.Add(new ValueInfo("a", [2, 3, k]));
        graph.Initializers["w"] = HostTensor.FromFloats([k, n], w);
        graph.Nodes.Add(new Node("MatMul", "mm", ["a", "w"], ["y"]));
        graph.Outputs.Add("y");
        using var session = Small.Compile(graph, [2, 3, k]);
        Assert.Equal(1, session.Passes.WeightsSplit);
        var expected = new float[6 * n];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int kk = 0; kk < k; kk++) sum += (double)a[i * k + kk] * w[kk * n + j];
                expected[i * n + j] = (float)sum;
            }
        Tolerance.AssertClose(expected, session.Run(a), Tolerance.Op);
    }

    [Theory]
    [InlineData(1, 1, "fp32")]
    [InlineData(2, 2, "fp32")]
    [InlineData(1, 1, "fp16")]
    public void Conv_with_weights_past_the_limit_is_split_along_output_channels(int batch, int stride, string precision)
    {
        const int cin = 40, cout = 100, size = 7;   // 140.6 KiB of weight
        var x = Reference.Random(batch * cin * size * size, 6);
        var w = Reference.Random(cout * cin * 9, 7, -0.2f, 0.2f);
        var b = Reference.Random(cout, 8);
        bool half = precision == "fp16";
        if (half) { x = Reference.RoundToHalf(x); w = Reference.RoundToHalf(w); b = Reference.RoundToHalf(b); }
        var graph = new Ir.Graph { Name = "conv" };
        graph.Inputs.Add(new ValueInfo("x", [batch, cin, size, size]));
        graph.Initializers["w"] = HostTensor.FromFloats([cout, cin, 3, 3], w);
        graph.Initializers["b"] = HostTensor.FromFloats([cout], b);
        graph.Nodes.Add(new Node("Conv", "conv", ["x", "w", "b"], ["y"], new Attributes()
            .Set("kernel_shape", new[] { 3, 3 }).Set("pads", new[] { 1, 1, 1, 1 }).Set("strides", new[] { stride, stride })));
        graph.Outputs.Add("y");
        using var session = Small.Compile(graph, [batch, cin, size, size],
            new SessionOptions { Precision = half ? StoragePrecision.Fp16 : StoragePrecision.Fp32 });
        Assert.Equal(1, session.Passes.WeightsSplit);
        var expected = Conv3x3(x, w, b, batch, cin, cout, size, stride);
        Tolerance.AssertClose(expected, session.Run(x), half ? Tolerance.Fp16Storage : Tolerance.Op);
    }

    [Fact]
    public void A_weight_past_the_limit_that_cannot_be_split_names_itself_and_its_node()
    {
        var graph = new Ir.Graph { Name = "grouped" };
        graph.Inputs.Add(new ValueInfo("x", [1, 80, 4, 4]));
        graph.Initializers["grouped.weight"] = HostTensor.FromFloats([200, 40, 3, 3], Reference.Random(200 * 40 * 9, 9));
        graph.Nodes.Add(new Node("Conv", "grouped_conv", ["x", "grouped.weight"], ["y"],
            new Attributes().Set("kernel_shape", new[] { 3, 3 }).Set("group", 2)));
        graph.Outputs.Add("y");
        var e = Assert.Throws<TensorTooLargeException>(() => Small.Compile(graph, [1, 80, 4, 4]));
        Assert.Equal("grouped.weight", e.TensorName);
        Assert.Equal(Limit, e.Limit);
        Assert.Contains("weight of Conv 'grouped_conv'", e.Message);
        Assert.DoesNotContain("smaller batch", e.Message);
    }

    [Fact]
    public void The_option_lowers_the_binding_limit_and_never_raises_it()
    {
        Assert.Equal(Limit, Small.Info.Limits.MaxStorageBufferRange);
        using var device = GpuDevice.Create(new GpuDeviceOptions
        {
            Validation = true,
            MaxBufferBytes = ulong.MaxValue,
            PipelineCacheDirectory = Gpu.CacheDirectory,
            Log = _ => { },
        });
        Assert.Equal(Device.Info.Limits.MaxStorageBufferRange, device.Info.Limits.MaxStorageBufferRange);
        Assert.Throws<ArgumentOutOfRangeException>(() => GpuDevice.Create(new GpuDeviceOptions { MaxBufferBytes = 100 }));
    }

    /// <summary>VGG-11's first classifier layer, 25088 → 4096 (392 MiB of weight), under a 128 MiB binding limit (lavapipe's own,
    /// and many mobile GPUs'), set explicitly so that the split runs on devices that bind more.</summary>
    [Fact]
    public void A_VGG_sized_classifier_runs_under_a_128_MiB_binding_limit()
    {
        const int k = 25088, n = 4096;
        using var device = GpuDevice.Create(new GpuDeviceOptions
        {
            Validation = true,
            MaxBufferBytes = 128 << 20,
            PipelineCacheDirectory = Gpu.CacheDirectory,
            Log = _ => { },
        });
        var a = Reference.Random(k, 10);
        var w = Reference.Random(k * n, 11, -0.01f, 0.01f);
        var graph = new Ir.Graph { Name = "vgg_classifier" };
        graph.Inputs.Add(new ValueInfo("a", [1, k]));
        graph.Initializers["classifier.0.weight"] = HostTensor.FromFloats([n, k], w);
        graph.Nodes.Add(new Node("Gemm", "classifier.0", ["a", "classifier.0.weight"], ["y"], new Attributes().Set("transB", 1)));
        graph.Outputs.Add("y");
        using var session = device.Compile(graph, [1, k]);
        Assert.Equal(1, session.Passes.WeightsSplit);
        var expected = new float[n];
        Parallel.For(0, n, j =>
        {
            double sum = 0;
            for (int kk = 0; kk < k; kk++) sum += (double)a[kk] * w[(long)j * k + kk];
            expected[j] = (float)sum;
        });
        Tolerance.AssertClose(expected, session.Run(a), Tolerance.Op);
        Assert.Equal(0, device.Validation!.ErrorCount);
    }

    private static float[] Transpose(float[] w, int k, int n)
    {
        var t = new float[w.Length];
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < n; j++) t[j * k + kk] = w[kk * n + j];
        return t;
    }

    private static float[] Conv3x3(float[] x, float[] w, float[] b, int batch, int cin, int cout, int size, int stride)
    {
        int o = (size + 2 - 3) / stride + 1;
        var y = new float[batch * cout * o * o];
        for (int img = 0; img < batch; img++)
            for (int m = 0; m < cout; m++)
                for (int oy = 0; oy < o; oy++)
                    for (int ox = 0; ox < o; ox++)
                    {
                        double sum = b[m];
                        for (int ch = 0; ch < cin; ch++)
                            for (int ky = 0; ky < 3; ky++)
                                for (int kx = 0; kx < 3; kx++)
                                {
                                    int iy = oy * stride + ky - 1, ix = ox * stride + kx - 1;
                                    if (iy < 0 || ix < 0 || iy >= size || ix >= size) continue;
                                    sum += (double)x[((img * cin + ch) * size + iy) * size + ix] * w[((m * cin + ch) * 3 + ky) * 3 + kx];
                                }
                        y[((img * cout + m) * o + oy) * o + ox] = (float)sum;
                    }
        return y;
    }
}
