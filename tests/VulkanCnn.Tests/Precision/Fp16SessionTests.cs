using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Precision;

/// <summary>Sessions with <see cref="SessionOptions.Precision"/> = Fp16: where the storage boundaries go, what falls back and why,
/// the memory saved, and whole networks against the double CPU reference.</summary>
public sealed class Fp16SessionTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static readonly SessionOptions Fp16 = new() { Precision = VulkanCnn.Compiler.Precision.Fp16 };

    private static void RandomizeBatchNorms(Module model, int seed)
    {
        var rng = new Random(seed);
        foreach (var (name, p) in model.StateDict())
        {
            if (name.EndsWith("running_var")) for (int i = 0; i < p.Data.Length; i++) p.Data[i] = 0.5f + rng.NextSingle();
            else if (name.EndsWith("running_mean")) for (int i = 0; i < p.Data.Length; i++) p.Data[i] = rng.NextSingle() * 0.2f - 0.1f;
        }
    }

    [Fact]
    public void ResNet18_shaped_network_in_fp16_matches_the_cpu_reference_and_halves_the_memory()
    {
        Init.ManualSeed(18);
        var model = ResNet.ResNet18(numClasses: 10);
        RandomizeBatchNorms(model, 1);
        TensorShape shape = [2, 3, 64, 64];
        var x = Reference.Random((int)shape.ElementCount, 3);
        using var fp32 = Device.Compile(model, shape);
        using var fp16 = Device.Compile(model, shape, Fp16);
        Tolerance.AssertClose(CpuNetwork.Run(model.ToGraph(shape), x), fp16.Run(x), Tolerance.Fp16Network, "ResNet-18 fp16");
        // Every node has an fp16 kernel: one Cast in (the host writes float) and one out, nothing falls back.
        Assert.Empty(fp16.StorageFallbacks);
        Assert.Equal(2, fp16.Graph.Nodes.Count(n => n.OpType == "Cast"));
        Assert.Equal(fp32.Graph.Nodes.Count, fp16.Fp16Nodes);
        Assert.Equal(0, fp32.Fp16Nodes);
        double peak = fp32.Memory.PeakIntermediateBytes;
        Assert.InRange(fp16.Memory.PeakIntermediateBytes, peak * 0.45, peak * 0.55);
        Assert.InRange(fp16.Memory.WeightBytes, fp32.Memory.WeightBytes * 0.45, fp32.Memory.WeightBytes * 0.55);
    }

    [Fact]
    public void MobileNetV2_in_fp16_matches_the_cpu_reference()
    {
        Init.ManualSeed(2);
        var model = new MobileNetV2(numClasses: 10);
        RandomizeBatchNorms(model, 2);
        TensorShape shape = [1, 3, 64, 64];
        var x = Reference.Random((int)shape.ElementCount, 4);
        using var session = Device.Compile(model, shape, Fp16);
        Tolerance.AssertClose(CpuNetwork.Run(model.ToGraph(shape), x), session.Run(x), Tolerance.Fp16Network, "MobileNetV2 fp16");
        Assert.Empty(session.StorageFallbacks);
    }

    /// <summary>A node without an fp16 kernel (TopK: its indices would round) stays fp32 between Casts and is listed with its reason;
    /// an output read by the host and by another node, and a weight read by an fp16 and an fp32 node, keep their values.</summary>
    [Fact]
    public void A_node_without_an_fp16_kernel_falls_back_between_casts()
    {
        var g = new VulkanCnn.Ir.Graph { Name = "mixed" };
        g.Inputs.Add(new ValueInfo("x", [1, 8]));
        g.Initializers["w"] = HostTensor.FromFloats([1, 8], [0.5f, -1, 2, 0.25f, 1.5f, -0.75f, 3, 1]);
        g.Initializers["k"] = HostTensor.FromInts([1], [3]);
        g.Nodes.Add(new Node("Mul", "scale", ["x", "w"], ["s"]));
        g.Nodes.Add(new Node("TopK", "top", ["s", "k"], ["values", "indices"]));
        g.Nodes.Add(new Node("Relu", "relu", ["values"], ["r"]));
        g.Nodes.Add(new Node("Add", "again", ["s", "w"], ["t"]));
        g.Nodes.Add(new Node("MseLoss", "loss", ["s", "w"], ["l"]));
        g.Outputs.AddRange(["s", "r", "indices", "t", "l"]);
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8];
        using var session = Device.Compile(g, options: Fp16);
        Assert.Equal([("top", "TopK", "no fp16 kernel"), ("loss", "MseLoss", "no fp16 kernel")],
            session.StorageFallbacks.Select(f => (f.Node, f.OpType, f.Reason)));
        // w is uploaded twice: as half for Mul and Add, as float for MseLoss.
        Assert.Equal(2, session.Graph.Initializers.Count(i => i.Value.Floats?.SequenceEqual(g.Initializers["w"].Floats!) == true));
        var outputs = session.Run(new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats([1, 8], x) });
        var s = x.Select((v, i) => v * g.Initializers["w"].Floats![i]).ToArray(); // products of small integers and halves: exact in fp16
        Assert.Equal(s, outputs["s"].Floats!);
        Assert.Equal([21, 8, 7.5f], outputs["r"].Floats!);
        Assert.Equal([6, 7, 4], outputs["indices"].Floats!);
        Assert.Equal(s.Select((v, i) => v + g.Initializers["w"].Floats![i]).ToArray(), outputs["t"].Floats!);
        Assert.Equal([55.078125f], outputs["l"].Floats!); // mean((s - w)²), every step exact
    }

    [Fact]
    public void Fp32_is_the_default_and_changes_nothing()
    {
        Assert.Equal(VulkanCnn.Compiler.Precision.Fp32, new SessionOptions().Precision);
        var model = new Sequential(Layers.Conv2d(3, 4, 3, padding: 1), Layers.ReLU());
        using var session = Device.Compile(model, [1, 3, 5, 5]);
        Assert.Equal(0, session.Fp16Nodes);
        Assert.Empty(session.StorageFallbacks);
        Assert.DoesNotContain(session.Graph.Nodes, n => n.OpType == "Cast");
    }
}
