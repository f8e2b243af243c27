using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Vulkan;

/// <summary>Recording mechanics end to end: dependent dispatches, replay, large grids, both transfer paths, zero allocation.</summary>
public sealed class RecordingTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Theory]
    [MemberData(nameof(BothPaths))]
    public void Dependent_dispatches_see_each_others_results(TensorPath path)
    {
        var device = Gpu.Get(path);
        TensorShape shape = [2, 3, 5, 7];
        var a = Reference.Random(210, 1);
        var b = Reference.Random(210, 2);
        using var ta = Tensor.FromData(device, shape, a, "a");
        using var tb = Tensor.FromData(device, shape, b, "b");
        using var sum = Tensor.Create(device, shape, "sum");
        using var y = Tensor.Create(device, shape, "y");
        using var add = BoundNode.Bind(device, new Node("Add", "add", ["a", "b"], ["sum"]), [ta, tb], [sum]);
        using var relu = TestKernels.Relu(sum, y);
        using var rec = new CommandRecording(device, "add→relu");
        add.Record(rec);
        relu.Record(rec);
        rec.Finish();
        rec.Run();
        Reference.AssertClose(Reference.Relu(Reference.Add(a, b)), y.ToArray(), atol: 0, rtol: 0);
    }

    [Fact]
    public void A_kernel_covers_more_workgroups_than_one_grid_row_holds()
    {
        // More workgroups than maxComputeWorkGroupCount[0]: the 2-D grid path (relu handles 4 values per invocation).
        long groupsInRow = Device.Info.Limits.MaxWorkGroupCount[0];
        long needed = groupsInRow * Device.DefaultWorkgroupSize * 4 + 1000;
        var (gx, gy) = Device.Grid1D((needed + 3) / 4, Device.DefaultWorkgroupSize);
        Assert.True(gy > 1 && gx <= groupsInRow && (long)gx * gy * Device.DefaultWorkgroupSize * 4 >= needed, $"grid {gx} x {gy}");
        // Running it takes a tensor that long: lavapipe's 65,535-group rows allow one, a GPU's 2^31 - 1 do not.
        if (needed * sizeof(float) > (long)Device.Info.Limits.MaxStorageBufferRange) return;
        int count = (int)needed;
        var x = Reference.Random(count, 5);
        using var tx = Tensor.FromData(Device, [count], x);
        using var ty = Tensor.Create(Device, [count]);
        using var relu = TestKernels.Relu(tx, ty);
        Assert.True(relu.Kernels[0].Groups.Y > 1);
        using var rec = new CommandRecording(Device, "relu-large");
        relu.Record(rec);
        rec.Finish();
        rec.Run();
        Reference.AssertClose(Reference.Relu(x), ty.ToArray(), atol: 0, rtol: 0);
    }

    [Theory]
    [InlineData(TensorPath.Mapped, 1, 1, 1)]
    [InlineData(TensorPath.Mapped, 7, 13, 5)]
    [InlineData(TensorPath.Mapped, 33, 17, 65)]
    [InlineData(TensorPath.Staging, 9, 31, 10)]
    public void Naive_matmul_matches_reference(TensorPath path, int m, int k, int n)
    {
        var device = Gpu.Get(path);
        var a = Reference.Random(m * k, 6);
        var b = Reference.Random(k * n, 7);
        using var ta = Tensor.FromData(device, [m, k], a);
        using var tb = Tensor.FromData(device, [k, n], b);
        using var tc = Tensor.Create(device, [m, n]);
        var node = new Node("MatMul", "matmul", ["a", "b"], ["c"], new Attributes().Set(VariantSelector.Attribute, "naive"));
        using var mm = BoundNode.Bind(device, node, [ta, tb], [tc]);
        Assert.Equal("matmul_naive", Assert.Single(mm.Kernels).Pipeline.Description.Shader);
        using var rec = new CommandRecording(device, "matmul");
        mm.Record(rec);
        rec.Finish();
        rec.Run();
        Tolerance.AssertClose(Reference.MatMul(a, b, m, k, n), tc.ToArray(), Tolerance.Op);
    }

    [Fact]
    public void A_recording_replays_with_new_input_data()
    {
        using var ta = Tensor.Create(Device, [64]);
        using var ty = Tensor.Create(Device, [64]);
        using var relu = TestKernels.Relu(ta, ty);
        using var rec = new CommandRecording(Device, "replay");
        relu.Record(rec);
        rec.Finish();
        for (int round = 0; round < 3; round++)
        {
            var input = Reference.Random(64, 100 + round);
            ta.Upload(input);
            rec.Run();
            Reference.AssertClose(Reference.Relu(input), ty.ToArray(), atol: 0, rtol: 0);
        }
    }

    [Fact]
    public void Workgroup_size_is_a_multiple_of_the_subgroup_size()
    {
        Assert.Equal(0u, Device.DefaultWorkgroupSize % Device.Info.Subgroup.Size);
        Assert.True(Device.DefaultWorkgroupSize <= Device.Info.Limits.MaxWorkGroupInvocations);
    }

    [Fact]
    public void Steady_state_replay_allocates_no_managed_memory()
    {
        using var tx = Tensor.FromData(Device, [32], Reference.Random(32, 9));
        using var ty = Tensor.Create(Device, [32]);
        using var relu = TestKernels.Relu(tx, ty);
        using var rec = new CommandRecording(Device, "zero-alloc");
        relu.Record(rec);
        rec.Finish();
        var output = new float[32];
        for (int i = 0; i < 5; i++) { rec.Run(); ty.Download(output); }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) { rec.Run(); ty.Download(output); }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
