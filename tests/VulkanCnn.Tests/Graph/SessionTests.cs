using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Graph;

/// <summary>The session: record once, replay; shapes, allocation, concurrency, passes, slicing, errors.</summary>
public sealed class SessionTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>y = sigmoid(relu(x * w + x)) with w a per-channel constant [C, 1, 1].</summary>
    private static IrGraph SmallGraph(int channels = 3)
    {
        var g = new IrGraph { Name = "small" };
        g.Inputs.Add(new ValueInfo("x", [1, channels, 4, 5]));
        g.Initializers["w"] = HostTensor.FromFloats([channels, 1, 1], Enumerable.Range(0, channels).Select(c => 0.5f + c).ToArray());
        g.Nodes.Add(new Node("Mul", "mul", ["x", "w"], ["xw"]));
        g.Nodes.Add(new Node("Add", "add", ["xw", "x"], ["s"]));
        g.Nodes.Add(new Node("Relu", "relu", ["s"], ["r"]));
        g.Nodes.Add(new Node("Identity", "id", ["r"], ["r2"]));
        g.Nodes.Add(new Node("Sigmoid", "sigmoid", ["r2"], ["y"]));
        g.Outputs.Add("y");
        return g;
    }

    private static float[] SmallReference(float[] x, int n, int channels)
    {
        int plane = 20;
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / plane % channels;
            double v = Math.Max(0, x[i] * (0.5 + c) + x[i]);
            y[i] = (float)(1 / (1 + Math.Exp(-v)));
        }
        return y;
    }

    [Fact]
    public void Run_matches_reference_and_passes_fuse_and_remove_nodes()
    {
        using var session = Device.Compile(SmallGraph());
        var x = Reference.Random(60, 1);
        Tolerance.AssertClose(SmallReference(x, 1, 3), session.Run(x), Tolerance.Op);
        Assert.Equal(1, session.Passes.IdentitiesRemoved);
        Assert.Equal(1, session.Passes.ActivationsFused);
        Assert.DoesNotContain(session.Graph.Nodes, n => n.OpType is "Relu" or "Identity");
        Assert.Equal("Relu", session.Graph.Nodes.Single(n => n.OpType == "Add").Attributes.String(FusedActivation.KindAttribute));

        using var unoptimized = Device.Compile(SmallGraph(), options: new SessionOptions { Optimize = false });
        Assert.Equal(5, unoptimized.Graph.Nodes.Count);
        Tolerance.AssertClose(unoptimized.Run(x), session.Run(x), Tolerance.Op);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Views_of_weights_work_with_and_without_constant_folding(bool optimize)
    {
        var g = new IrGraph { Name = "view-of-weight" };
        g.Inputs.Add(new ValueInfo("x", [2, 3]));
        g.Initializers["w"] = HostTensor.FromFloats([6], [1, 2, 3, 4, 5, 6]);
        g.Initializers["shape"] = HostTensor.FromInts([2], [2, 3]);
        g.Nodes.Add(new Node("Reshape", "reshape", ["w", "shape"], ["w2"]));
        g.Nodes.Add(new Node("Add", "add", ["x", "w2"], ["y"]));
        g.Outputs.Add("y");
        using var session = Device.Compile(g, options: new SessionOptions { Optimize = optimize });
        Assert.Equal([11f, 12, 13, 14, 15, 16], session.Run([10f, 10, 10, 10, 10, 10]));
        Assert.Equal(optimize ? 1 : 0, session.Passes.ConstantsFolded);
    }

    [Fact]
    public void Steady_state_run_into_a_span_allocates_nothing()
    {
        using var session = Device.Compile(SmallGraph());
        var x = Reference.Random(60, 2);
        var y = new float[60];
        for (int i = 0; i < 5; i++) session.Run(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) session.Run(x, y);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Tolerance.AssertClose(SmallReference(x, 1, 3), y, Tolerance.Op);
    }

    [Fact]
    public void Staging_device_runs_the_same_graph()
    {
        using var session = Gpu.Staging.Compile(SmallGraph());
        var x = Reference.Random(60, 3);
        Tolerance.AssertClose(SmallReference(x, 1, 3), session.Run(x), Tolerance.Op);
        var y = new float[60];
        for (int i = 0; i < 3; i++) session.Run(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) session.Run(x, y);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_new_input_shape_compiles_a_new_plan_once_and_batches_work()
    {
        using var session = Device.Compile(SmallGraph());
        var x8 = Reference.Random(8 * 60, 4);
        var y8 = session.Run(new TensorShape(8, 3, 4, 5), x8);
        Tolerance.AssertClose(SmallReference(x8, 8, 3), y8, Tolerance.Op);
        session.Run(new TensorShape(8, 3, 4, 5), x8);
        Assert.Equal(2, session.PlanCount);
    }

    /// <summary>MaxCachedPlans bounds the plans (the default one among them): a new shape past it evicts the least recently used
    /// plan no run holds, its Vulkan objects freed, and an evicted shape compiles again with the same result.</summary>
    [Fact]
    public void Plans_past_the_bound_are_evicted_least_recently_used_first()
    {
        using var device = Gpu.Create();
        using var session = device.Compile(SmallGraph(), options: new SessionOptions { MaxCachedPlans = 2 });
        float[] X(int n) => Reference.Random(n * 60, 40 + n);
        var first = new Dictionary<int, float[]>();
        foreach (int n in new[] { 2, 3, 4, 5 })
        {
            first[n] = session.Run(new TensorShape(n, 3, 4, 5), X(n));
            Tolerance.AssertClose(SmallReference(X(n), n, 3), first[n], Tolerance.Op, $"batch {n}");
            Assert.Equal(2, session.PlanCount); // the default plan and the last shape
        }
        int live = device.LiveObjectCount;
        foreach (int n in new[] { 2, 3, 4, 5 })
        {
            Assert.Equal(first[n], session.Run(new TensorShape(n, 3, 4, 5), X(n))); // compiled again, same bits
            Assert.Equal(2, session.PlanCount);
        }
        Assert.Equal(live, device.LiveObjectCount); // each evicted plan took its buffers and recording with it
        Tolerance.AssertClose(SmallReference(X(1), 1, 3), session.Run(X(1)), Tolerance.Op, "the default plan stays");
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Compile(SmallGraph(), options: new SessionOptions { MaxCachedPlans = 0 }));
    }

    [Fact]
    public void Sixty_four_concurrent_RunAsync_calls_complete_with_two_pool_threads()
    {
        // In a process of its own: the test host itself blocks pool threads, so capping this
        // process's pool at 2 would measure the host, not the session.
        string config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release"
            : "Debug";
        string program = Repo.PathOf("examples", "ConcurrentInference", "bin", config, "net10.0", "ConcurrentInference.dll");
        Assert.True(File.Exists(program), $"{program} is built with the solution");
        var (code, output) = Repo.Run("dotnet", program, "64", "2");
        Assert.True(code == 0, output);
        Assert.Contains("64 correct, 0 wrong", output);
        Assert.DoesNotContain("validation error", output);
    }

    [Fact]
    public void Bad_input_and_disposal_are_clear_errors()
    {
        var session = Device.Compile(SmallGraph());
        var wrong = Assert.Throws<ArgumentException>(() => session.Run(new float[59]));
        Assert.Contains("[1, 3, 4, 5]", wrong.Message);
        Assert.Throws<ArgumentException>(() => session.Run(new float[60], new float[7]));
        var shape = Assert.Throws<GraphException>(() => session.Run(new TensorShape(1, 4, 4, 5), new float[80]));
        Assert.Contains("[1, 4, 4, 5]", shape.Message);
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.Run(new float[60]));
    }

    [Fact]
    public void Unknown_ops_are_all_listed_before_any_gpu_work()
    {
        var g = SmallGraph();
        g.Nodes.Add(new Node("QuantizeLinear", "q1", ["y"], ["q"]));
        g.Nodes.Add(new Node("FancyOp", "f1", ["q"], ["z"]));
        g.Outputs[0] = "z";
        var e = Assert.Throws<UnsupportedOperatorException>(() => Device.Compile(g));
        Assert.Contains("QuantizeLinear (node 'q1')", e.Message);
        Assert.Contains("FancyOp (node 'f1')", e.Message);
    }

    [Fact]
    public void Profile_and_frame_slices_cover_every_layer_and_reproduce_the_result()
    {
        using var session = Device.Compile(SmallGraph());
        var profile = session.Profile(runs: 3);
        Assert.Equal(session.Graph.Nodes.Count, profile.Layers.Count);
        Assert.All(profile.Layers, l => Assert.True(l.Milliseconds >= 0));
        Assert.InRange(profile.Layers.Sum(l => l.Share), 0.99, 1.01);

        // A tiny budget puts every layer in a slice of its own; each Step submits at most one slice.
        using var sliced = session.CreateFrameSlices(budgetMilliseconds: 1e-6, profile);
        Assert.Equal(profile.Layers.Count, sliced.SliceCount);
        var x = Reference.Random(60, 5);
        sliced.Begin(x);
        int frames = 0;
        while (!sliced.Step()) { frames++; Thread.Sleep(1); Assert.True(frames < 10_000); }
        Assert.True(frames >= sliced.SliceCount - 1);
        var y = new float[60];
        sliced.ReadOutput(y);
        Tolerance.AssertClose(SmallReference(x, 1, 3), y, Tolerance.Op);

        using var whole = session.CreateFrameSlices(budgetMilliseconds: 1e6, profile);
        Assert.Equal(1, whole.SliceCount);
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public void Supplied_input_buffer_works_with_Run_and_with_input_written_on_the_GPU(TensorPath path)
    {
        var device = Gpu.Get(path);
        using var input = Tensor.Create(device, [1, 3, 4, 5], "supplied x");
        using var session = device.Compile(SmallGraph(), options: new SessionOptions
        {
            ExternalBuffers = new Dictionary<string, VulkanCnn.Vulkan.GpuBuffer> { ["x"] = input.Buffer },
        });
        var x = Reference.Random(60, 8);
        Tolerance.AssertClose(SmallReference(x, 1, 3), session.Run(x), Tolerance.Op); // through staging when the buffer is not mapped

        // The input written by the device itself (an upload stands in for a preprocessing kernel), then the sliced run
        // without any host-to-input copy: slice 1's staging copy must not overwrite it.
        var x2 = Reference.Random(60, 9);
        input.Upload(x2);
        using var sliced = session.CreateFrameSlices(budgetMilliseconds: 1e-6);
        sliced.BeginWithDeviceInput();
        while (!sliced.Step()) Thread.Sleep(1);
        var y = new float[60];
        sliced.ReadOutput(y);
        Tolerance.AssertClose(SmallReference(x2, 1, 3), y, Tolerance.Op);
        sliced.Begin(x); // and the uploading form still works after it
        while (!sliced.Step()) Thread.Sleep(1);
        sliced.ReadOutput(y);
        Tolerance.AssertClose(SmallReference(x, 1, 3), y, Tolerance.Op);
    }
}
