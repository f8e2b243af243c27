using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Graph;

/// <summary>Regression tests for review findings: names, constant outputs, concurrency with Submit/Dispose.</summary>
public sealed class SessionRobustnessTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static IrGraph ReluThenIdentity()
    {
        var g = new IrGraph { Name = "named-output" };
        g.Inputs.Add(new ValueInfo("x", [2, 5]));
        g.Nodes.Add(new Node("Relu", "relu", ["x"], ["feat"]));
        g.Nodes.Add(new Node("Identity", "id", ["feat"], ["logits"]));
        g.Outputs.Add("logits");
        return g;
    }

    [Fact]
    public void Removing_an_identity_keeps_the_graph_output_name()
    {
        using var session = Device.Compile(ReluThenIdentity());
        Assert.Equal(1, session.Passes.IdentitiesRemoved);
        Assert.Equal("logits", session.Outputs[0].Name);
        var x = Reference.Random(10, 1);
        var result = session.Run(new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats([2, 5], x) });
        Assert.Equal(Reference.Relu(x), result["logits"].Floats);
    }

    [Fact]
    public void A_graph_output_computed_from_constants_only_is_still_produced()
    {
        var g = new IrGraph { Name = "constant-output" };
        g.Inputs.Add(new ValueInfo("x", [3]));
        g.Initializers["a"] = HostTensor.FromFloats([3], [1, 2, 3]);
        g.Initializers["b"] = HostTensor.FromFloats([3], [10, 20, 30]);
        g.Nodes.Add(new Node("Add", "k", ["a", "b"], ["k"]));
        g.Nodes.Add(new Node("Mul", "y", ["x", "k"], ["y"]));
        g.Outputs.Add("y");
        g.Outputs.Add("k");
        using var session = Device.Compile(g);
        var result = session.Run(new Dictionary<string, HostTensor> { ["x"] = HostTensor.FromFloats([3], [1, 1, 2]) });
        Assert.Equal([11f, 22, 33], result["k"].Floats!);
        Assert.Equal([11f, 22, 66], result["y"].Floats!);
    }

    [Fact]
    public void Run_after_Submit_waits_for_the_submitted_run()
    {
        using var session = Device.Compile(ReluThenIdentity());
        var x = Reference.Random(10, 2);
        session.Run(x);
        session.Submit([], []);
        Assert.Equal(Reference.Relu(x), session.Run(x));
    }

    [Fact]
    public async Task Disposing_with_queued_and_cancelled_runs_neither_hangs_nor_leaves_validation_errors()
    {
        var session = Device.Compile(ReluThenIdentity());
        var x = Reference.Random(10, 3);
        using var cts = new CancellationTokenSource();
        var runs = Enumerable.Range(0, 8).Select(_ => session.RunAsync(x, new float[10], cts.Token)).ToList();
        cts.Cancel();
        session.Dispose();
        foreach (var run in runs)
        {
            var outcome = await Record.ExceptionAsync(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.True(outcome is null or OperationCanceledException or ObjectDisposedException, outcome?.ToString());
        }
        Assert.Throws<ObjectDisposedException>(() => session.Run(x));
    }

    [Fact]
    public void A_standalone_batchnorm_with_omitted_optional_outputs_runs()
    {
        var g = new IrGraph { Name = "bn" };
        g.Inputs.Add(new ValueInfo("x", [1, 2, 2, 2]));
        g.Initializers["s"] = HostTensor.FromFloats([2], [1, 2]);
        g.Initializers["b"] = HostTensor.FromFloats([2], [0, 1]);
        g.Initializers["m"] = HostTensor.FromFloats([2], [0, 0]);
        g.Initializers["v"] = HostTensor.FromFloats([2], [1, 1]);
        g.Nodes.Add(new Node("BatchNormalization", "bn", ["x", "s", "b", "m", "v"], ["y", "", ""], new Attributes().Set("epsilon", 0f)));
        g.Outputs.Add("y");
        using var session = Device.Compile(g, options: new SessionOptions { Optimize = false });
        Assert.Equal([1f, 1, 1, 1, 3, 3, 3, 3], session.Run([1f, 1, 1, 1, 1, 1, 1, 1]));
    }
}
