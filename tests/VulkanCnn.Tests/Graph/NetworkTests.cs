using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Graph;

/// <summary>Whole networks built with the nn API, compiled and compared with the CPU reference.</summary>
public sealed class NetworkTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>Gives every BatchNorm non-trivial statistics so folding is really exercised.</summary>
    private static void RandomizeBatchNorms(Module model, int seed)
    {
        var rng = new Random(seed);
        foreach (var (name, p) in model.StateDict())
        {
            if (name.EndsWith("running_var")) for (int i = 0; i < p.Data.Length; i++) p.Data[i] = 0.5f + rng.NextSingle();
            else if (name.EndsWith("running_mean") || (name.EndsWith("bias") && p.Shape.Rank == 1 && !name.Contains("head")))
                for (int i = 0; i < p.Data.Length; i++) p.Data[i] = rng.NextSingle() * 0.2f - 0.1f;
            else if (name.EndsWith("weight")
                && p.Shape.Rank == 1) for (int i = 0; i < p.Data.Length; i++) p.Data[i] = 0.8f + rng.NextSingle() * 0.4f;
        }
    }

    [Fact]
    public void ResNet18_shaped_network_matches_the_cpu_reference_at_batch_2()
    {
        Init.ManualSeed(18);
        using var session = CompileMatchingTheCpuReference(ResNet.ResNet18(numClasses: 10), [2, 3, 64, 64], bnSeed: 1, inputSeed: 3);
    }

    [Fact]
    public void Compiled_ResNet18_has_no_batchnorm_no_standalone_activation_after_conv_and_a_small_memory_plan()
    {
        Init.ManualSeed(1);
        var model = ResNet.ResNet18();
        using var session = Device.Compile(model, [1, 3, 224, 224]);
        var nodes = session.Graph.Nodes;
        Assert.DoesNotContain(nodes, n => n.OpType == "BatchNormalization");
        var producers = nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        Assert.DoesNotContain(nodes, n => n.OpType == "Relu" && producers.TryGetValue(n.Inputs[0], out var p)
            && p.OpType is "Conv" or "Add");
        Assert.Equal(20, session.Passes.BatchNormsFolded);
        Assert.Equal(17, session.Passes.ActivationsFused);
        // Every block's Add (and its Relu) runs in the epilogue of a conv: no standalone Add is left.
        Assert.Equal(8, session.Passes.ResidualAddsFused);
        Assert.DoesNotContain(nodes, n => n.OpType == "Add");
        Assert.Equal(8, nodes.Count(n => n.OpType == "Conv" && n.Inputs.Count == 4));
        // The plan's peak is the least any plan can do: the stem conv's output (64x112x112) and the max pool's (64x56x56)
        // are live together, and nothing later needs more.
        var memory = session.Memory;
        ulong optimum = (64UL * 112 * 112 + 64UL * 56 * 56) * sizeof(float);
        Assert.True(memory.PeakIntermediateBytes <= optimum,
            $"peak {memory.PeakIntermediateBytes / 1048576.0:0.00} MiB exceeds the {optimum / 1048576.0:0.00} MiB optimum " +
                $"(naive {memory.NaiveIntermediateBytes / 1048576.0:0.0} MiB)");
    }

    [Fact]
    public void ResNet18_costs_the_published_3_6_GFLOP()
    {
        var flops = OpCost.TotalFlops(ResNet.ResNet18().ToGraph([1, 3, 224, 224]));
        Assert.InRange(flops, 3.60e9, 3.66e9); // torchvision: 1.814 GMAC
    }

    [Fact]
    public void MobileNetV2_matches_the_cpu_reference_and_torchvisions_size()
    {
        Init.ManualSeed(2);
        var model = new MobileNetV2(numClasses: 1000);
        // torchvision.models.mobilenet_v2(): 3,504,872 parameters; 300.8 M multiply-adds at 224x224.
        long parameters = model.StateDict().Where(p => !p.Key.EndsWith("running_mean") && !p.Key.EndsWith("running_var")).Sum(p =>
            p.Value.Data.LongLength);
        Assert.Equal(3_504_872, parameters);
        Assert.InRange(OpCost.TotalFlops(model.ToGraph([1, 3, 224, 224])), 0.595e9, 0.607e9);

        using var session = CompileMatchingTheCpuReference(model, [1, 3, 64, 64], bnSeed: 2, inputSeed: 4);
        Assert.DoesNotContain(session.Graph.Nodes, n => n.OpType == "BatchNormalization");
        // The 10 inverted residuals add in their projection conv's epilogue.
        Assert.Equal(10, session.Passes.ResidualAddsFused);
        Assert.DoesNotContain(session.Graph.Nodes, n => n.OpType == "Add");
    }

    /// <summary>Randomised BatchNorm statistics, compiled, and the session's output checked against the CPU reference.</summary>
    private Session CompileMatchingTheCpuReference(Module model, TensorShape shape, int bnSeed, int inputSeed)
    {
        RandomizeBatchNorms(model, bnSeed);
        var x = Reference.Random((int)shape.ElementCount, inputSeed);
        var session = Device.Compile(model, shape);
        Tolerance.AssertClose(CpuNetwork.Run(model.ToGraph(shape), x), session.Run(x), Tolerance.Network);
        return session;
    }

    [Fact]
    public void Passes_preserve_results()
    {
        Init.ManualSeed(5);
        var model = new Sequential(Layers.Conv2d(3, 8, 3, padding: 1), Layers.BatchNorm2d(8), Layers.ReLU(),
            Layers.Conv2d(8, 6, (1, 3), padding: (0, 1)), Layers.BatchNorm2d(6), Layers.ReLU6(), Layers.MaxPool2d(2), Layers.Flatten(),
            Layers.Linear(6 * 5 * 6, 4), Layers.ReLU());
        RandomizeBatchNorms(model, 2);
        TensorShape shape = [2, 3, 10, 12];
        var x = Reference.Random((int)shape.ElementCount, 4);
        using var optimized = Device.Compile(model, shape);
        using var plain = Device.Compile(model, shape, new SessionOptions { Optimize = false });
        Assert.True(optimized.Graph.Nodes.Count < plain.Graph.Nodes.Count);
        Tolerance.AssertClose(plain.Run(x), optimized.Run(x), Tolerance.Network);
        Tolerance.AssertClose(CpuNetwork.Run(model.ToGraph(shape), x), optimized.Run(x), Tolerance.Network);
    }

    [Fact]
    public void Inception_block_with_parallel_branches_matches_the_cpu_reference()
    {
        Init.ManualSeed(7);
        var model = new Sequential(new InceptionBlock(inChannels: 6, branchChannels: 5, midChannels: 7), Layers.AdaptiveAvgPool2d(),
            Layers.Flatten(), Layers.Linear(20, 3));
        using var session = CompileMatchingTheCpuReference(model, [2, 6, 9, 11], bnSeed: 3, inputSeed: 8);
        Assert.Contains(session.Graph.Nodes, n => n.OpType == "Concat");
    }

    [Fact]
    public void Model_building_errors_name_the_layer_and_shapes()
    {
        var e = Assert.Throws<GraphException>(() =>
            Device.Compile(new Sequential(Layers.Conv2d(3, 4, 3), Layers.Flatten(), Layers.Linear(10, 2)), [1, 3, 8, 8]));
        Assert.Contains("Linear(10, 2)", e.Message);
        Assert.Contains("[1, 144]", e.Message);
        var c = Assert.Throws<GraphException>(() => Device.Compile(new Sequential(Layers.Conv2d(4, 4, 3)), [1, 3, 8, 8]));
        Assert.Contains("[1, 3, 8, 8]", c.Message);
    }

    [Fact]
    public void Weights_round_trip_through_safetensors_into_a_new_model()
    {
        Init.ManualSeed(11);
        var model = new Sequential(Layers.Conv2d(2, 3, 3, padding: 1), Layers.BatchNorm2d(3), Layers.ReLU(), Layers.Flatten(),
            Layers.Linear(3 * 4 * 4, 2));
        RandomizeBatchNorms(model, 4);
        string path = Path.Combine(Path.GetTempPath(), $"vkcnn-model-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.SaveSafetensors(path);
            Init.ManualSeed(12);
            var copy = new Sequential(Layers.Conv2d(2, 3, 3, padding: 1), Layers.BatchNorm2d(3), Layers.ReLU(), Layers.Flatten(),
                Layers.Linear(3 * 4 * 4, 2));
            copy.LoadSafetensors(path);
            var x = Reference.Random(2 * 2 * 16, 9);
            using var a = Device.Compile(model, [2, 2, 4, 4]);
            using var b = Device.Compile(copy, [2, 2, 4, 4]);
            Assert.Equal(a.Run(x), b.Run(x));
        }
        finally { File.Delete(path); }
    }
}
