using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Precision;

/// <summary><see cref="VulkanCnn.Compiler.Precision.Auto"/>: fp32 on a CPU driver; elsewhere fp16 per node, with fp32 kept where
/// the calibration input shows fp16 losing accuracy, and the profile saying which and why.</summary>
public sealed class AutoPrecisionTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static readonly SessionOptions Auto = new() { Precision = VulkanCnn.Compiler.Precision.Auto };
    private static readonly SessionOptions AutoAnywhere = Auto with { CalibrateOnAnyDevice = true };

    [Fact]
    public void Auto_keeps_fp32_on_a_cpu_driver_and_says_why()
    {
        Assert.Equal(VulkanCnn.Vulkan.DeviceKind.Cpu, Device.Info.Type); // lavapipe
        var model = new Sequential(Layers.Conv2d(3, 4, 3, padding: 1), Layers.ReLU());
        using var session = Device.Compile(model, [1, 3, 6, 6], Auto);
        Assert.Equal(0, session.Fp16Nodes);
        Assert.Contains("CPU driver", session.Fp32Reason);
        var options = new SessionOptions { Precision = VulkanCnn.Compiler.Precision.Fp16 };
        using var fp16 = Device.Compile(model, [1, 3, 6, 6], options);
        Assert.Null(fp16.Fp32Reason);
    }

    /// <summary>relu(conv(x))·1000·1000 overflows half (past 65504): the node that makes it, the one that reads it and the one
    /// feeding them keep fp32; the rest is fp16, and the result is fp32's, where forced Fp16 is far off.</summary>
    [Fact]
    public void Auto_keeps_fp32_where_fp16_would_overflow_and_the_profile_says_why()
    {
        var g = new VulkanCnn.Ir.Graph { Name = "overflow" };
        g.Inputs.Add(new ValueInfo("x", [1, 2, 4, 4]));
        g.Initializers["big"] = HostTensor.FromFloats([], [1000]);
        g.Initializers["small"] = HostTensor.FromFloats([], [1e-6f]);
        g.Initializers["w"] = HostTensor.FromFloats([3, 2, 1, 1], [0.5f, -0.25f, 1, 0.75f, -1, 0.125f]);
        g.Nodes.Add(new Node("Conv", "first", ["x", "w"], ["c"]));
        g.Nodes.Add(new Node("Relu", "relu", ["c"], ["r"])); // fused into the conv, which then takes no scale
        g.Nodes.Add(new Node("Mul", "scale_up", ["r", "big"], ["a"]));
        g.Nodes.Add(new Node("Mul", "overflow", ["a", "big"], ["b"]));
        g.Nodes.Add(new Node("Mul", "scale_down", ["b", "small"], ["d"]));
        g.Nodes.Add(new Node("Softmax", "last", ["d"], ["y"], new Attributes().Set("axis", 1L)));
        g.Outputs.Add("y");
        var x = Reference.Random(32, 7, 0.5f, 1);
        var calibration = new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats([1, 2, 4, 4], x) };

        using var auto = Device.Compile(g, options: AutoAnywhere with { CalibrationInputs = calibration });
        var fallbacks = auto.StorageFallbacks.ToDictionary(f => f.Node, f => f.Reason);
        Assert.Equal(["overflow", "scale_down", "scale_up"], fallbacks.Keys.Order(StringComparer.Ordinal));
        // Past 65504 a driver may give infinity or saturate (lavapipe saturates): either way the verdict is fp32.
        Assert.StartsWith("fp16 ", fallbacks["overflow"]);
        Assert.StartsWith("fp16 ", fallbacks["scale_down"]);
        Assert.Contains("feeds overflow", fallbacks["scale_up"]);
        Assert.Equal(2, auto.Fp16Nodes); // the conv and the softmax
        var profile = auto.Profile(runs: 1).ToString();
        Assert.Contains("fp32: feeds overflow", profile);
        Assert.Contains("fp16", profile.Split('\n').Single(l => l.StartsWith("last", StringComparison.Ordinal)));

        using var fp32 = Device.Compile(g);
        using var fp16 = Device.Compile(g, options: new SessionOptions { Precision = VulkanCnn.Compiler.Precision.Fp16 });
        var expected = fp32.Run(x);
        Tolerance.AssertClose(expected, auto.Run(x), Tolerance.Fp16Network, "Auto");
        var forced = fp16.Run(x);
        Assert.Contains(expected.Zip(forced), p => !(Math.Abs(p.First - p.Second) < 0.05)); // fp16 everywhere loses it
    }

    [Fact]
    public void Auto_on_a_resnet_keeps_fp16_everywhere_and_matches_the_cpu_reference()
    {
        Init.ManualSeed(3);
        var model = ResNet.ResNet18(numClasses: 10);
        TensorShape shape = [1, 3, 32, 32];
        var x = Reference.Random((int)shape.ElementCount, 9);
        using var session = Device.Compile(model, shape, AutoAnywhere);
        Assert.Empty(session.StorageFallbacks);
        Assert.True(session.Fp16Nodes > 20, $"{session.Fp16Nodes} fp16 nodes");
        Tolerance.AssertClose(CpuNetwork.Run(model.ToGraph(shape), x), session.Run(x), Tolerance.Fp16Network);
    }

    [Fact]
    public void A_calibration_input_of_the_wrong_shape_is_refused_by_name()
    {
        var model = new Sequential(Layers.Conv2d(3, 4, 3, padding: 1));
        var bad = new Dictionary<string, HostTensor> { ["input"] = HostTensor.FromFloats([1, 3, 5, 5], new float[75]) };
        var e = Assert.Throws<ArgumentException>(() => Device.Compile(model, [1, 3, 6, 6], AutoAnywhere with { CalibrationInputs = bad }));
        Assert.Contains("Calibration input 'input'", e.Message);
    }
}
