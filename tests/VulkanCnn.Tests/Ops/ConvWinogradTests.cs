using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using Xunit.Abstractions;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Winograd's numerical error on ResNet-18's 3x3 layers against the double reference, with the stated bounds
/// (<see cref="Tolerance.WinogradF2"/>, <see cref="Tolerance.WinogradF4"/>); when the selector may use it.</summary>
public sealed class ConvWinogradTests(GpuFixture gpu, ITestOutputHelper output) : GpuTest(gpu)
{
    // Measured on lavapipe (scaled error max|gpu − ref| / max(1, max|ref|), inputs in [0, 1) as after a ReLU, He-scaled
    // weights): gemm 0.8–2.8e-6, F(2,3) 0.3–0.8e-6, F(4,3) 4.1–6.9e-6 (largest on 512 channels).
    [Theory]
    [InlineData(64, 56)]
    [InlineData(128, 28)]
    [InlineData(256, 14)]
    [InlineData(512, 7)]
    public void Resnet_layer_error_is_within_the_stated_bound(int channels, int size)
    {
        var c = new ConvCase(1, channels, size, size, channels, 3, 3, Pads: [1, 1, 1, 1], Bias: true, Act: "Relu");
        var x = Reference.Random(channels * size * size, channels, 0, 1);
        float limit = MathF.Sqrt(6f / (9 * channels));
        var w = Reference.Random(channels * channels * 9, channels + 1, -limit, limit);
        var b = Reference.Random(channels, channels + 2, -0.1f, 0.1f);
        var expected = ConvTests.Reference(c, x, w, b).Y;
        double scale = Math.Max(1, expected.Max(Math.Abs));
        foreach (var variant in new[] { "gemm", "winograd_f2x3", "winograd_f4x3" })
        {
            var attrs = ConvTests.Attributes(c);
            attrs.Set(ConvStrategySelector.Attribute, variant);
            var y = Run1(Device, "Conv", attrs, In.Of([1, channels, size, size], x), In.Weight([channels, channels, 3, 3], w),
                In.Weight([channels], b));
            double worst = 0;
            for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs((double)expected[i] - y.Floats![i]));
            output.WriteLine($"{channels}x{size}² {variant}: scaled error {worst / scale:E2}");
            Tolerance.AssertClose(expected, y.Floats, Tolerance.ForConvVariant(variant), $"{channels}x{size}² ({variant})");
        }
    }

    /// <summary>Weights as a runtime tensor (training): winograd_weights transforms them on the GPU each run, in fp32.</summary>
    [Theory]
    [InlineData("k3x3_ragged_tiles_batch2_relu", "winograd_f2x3")]
    [InlineData("k3x3_ragged_tiles_batch2_relu", "winograd_f4x3")]
    [InlineData("ragged_gemm_batch2_clip", "winograd_f4x3")]
    [InlineData("k3x3_valid", "winograd_f2x3")]
    public void Runtime_weights_match_the_cpu_reference(string name, string variant)
    {
        var c = ConvTests.Cases[name];
        var (x, w, b) = ConvTests.Inputs(c, seed: 21);
        var attrs = ConvTests.Attributes(c);
        attrs.Set(ConvStrategySelector.Attribute, variant);
        var y = Run1(Device, "Conv", attrs, In.Of([c.N, c.C, c.H, c.W], x), In.Of([c.M, c.C, 3, 3], w),
            b is null ? null : In.Of([c.M], b));
        Tolerance.AssertClose(ConvTests.Reference(c, x, w, b).Y, y.Floats, Tolerance.ForConvVariant(variant), $"{name} ({variant})");
    }

    [Fact]
    public void Winograd_takes_runtime_weights_and_refuses_other_geometries()
    {
        Assert.True(OperatorRegistry.TryGet("Conv", out var op));
        var conv = (IKernelVariants)op;
        OpContext Node(int k, int stride, int group, bool constantWeights)
        {
            var a = Attrs(("kernel_shape", new[] { k, k }), ("strides", new[] { stride, stride }), ("group", group));
            var node = new Node("Conv", "c", ["x", "w"], ["y"], a);
            var w = HostTensor.FromFloats(new TensorShape(16, 16 / group, k, k), new float[16 * 16 / group * k * k]);
            return new OpContext(node, [new TensorShape(1, 16, 9, 9), w.Shape], [null, constantWeights ? w : null]);
        }
        Assert.Null(conv.Refusal("winograd_f4x3", Node(3, 1, 1, true), Device));
        Assert.Null(conv.Refusal("winograd_f2x3", Node(3, 1, 1, false), Device)); // transformed on the GPU every run
        Assert.Contains("stride 1", conv.Refusal("winograd_f4x3", Node(3, 2, 1, true), Device));
        Assert.Contains("3x3", conv.Refusal("winograd_f2x3", Node(5, 1, 1, true), Device));
        Assert.Contains("one group", conv.Refusal("winograd_f2x3", Node(3, 1, 2, true), Device));
    }
}
