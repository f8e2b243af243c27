using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Ops;

/// <summary>The first kernels (add, mul, relu, matmul) against naive CPU references, on the mapped and the staging path.</summary>
public sealed class FirstKernelTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Theory]
    [MemberData(nameof(BothPaths))]
    public void Add_and_mul_match_reference_on_odd_shape(TensorPath path)
    {
        var device = Gpu.Get(path);
        TensorShape shape = [2, 3, 5, 7];
        var a = Reference.Random(210, 1);
        var b = Reference.Random(210, 2);
        using var ta = Tensor.FromData(device, shape, a, "a");
        using var tb = Tensor.FromData(device, shape, b, "b");
        using var sum = Tensor.Create(device, shape, "sum");
        using var product = Tensor.Create(device, shape, "product");
        using var add = BinaryOp.Bind(BinaryOpKind.Add, ta, tb, sum);
        using var mul = BinaryOp.Bind(BinaryOpKind.Mul, ta, tb, product);
        using var rec = new CommandRecording(device, "add+mul");
        rec.Dispatch(add);
        rec.Dispatch(mul);
        rec.Finish();
        rec.Run();

        Reference.AssertClose(Reference.Add(a, b), sum.ToArray(), atol: 0, rtol: 0);
        Reference.AssertClose(Reference.Mul(a, b), product.ToArray(), atol: 0, rtol: 0);
    }

    [Theory]
    [MemberData(nameof(BothPaths))]
    public void Relu_chained_after_add_reads_the_sum(TensorPath path)
    {
        var device = Gpu.Get(path);
        TensorShape shape = [1, 13];
        var a = Reference.Random(13, 3);
        var b = Reference.Random(13, 4);
        using var ta = Tensor.FromData(device, shape, a);
        using var tb = Tensor.FromData(device, shape, b);
        using var sum = Tensor.Create(device, shape);
        using var y = Tensor.Create(device, shape);
        using var add = BinaryOp.Bind(BinaryOpKind.Add, ta, tb, sum);
        using var relu = Relu.Bind(sum, y);
        using var rec = new CommandRecording(device, "add→relu");
        rec.Dispatch(add);
        rec.Dispatch(relu);
        rec.Finish();
        rec.Run();

        Reference.AssertClose(Reference.Relu(Reference.Add(a, b)), y.ToArray(), atol: 0, rtol: 0);
    }

    [Fact]
    public void Relu_covers_more_elements_than_one_grid_row_holds()
    {
        // More workgroups than maxComputeWorkGroupCount[0] (65535): the 2-D grid path.
        long groupsInRow = Device.Info.Limits.MaxWorkGroupCount[0];
        int count = checked((int)(groupsInRow * Device.DefaultWorkgroupSize + 1000));
        var x = Reference.Random(count, 5);
        using var tx = Tensor.FromData(Device, [count], x);
        using var ty = Tensor.Create(Device, [count]);
        using var relu = Relu.Bind(tx, ty);
        Assert.True(relu.Groups.Y > 1);
        using var rec = new CommandRecording(Device, "relu-large");
        rec.Dispatch(relu);
        rec.Finish();
        rec.Run();
        Reference.AssertClose(Reference.Relu(x), ty.ToArray(), atol: 0, rtol: 0);
    }

    [Theory]
    [InlineData(TensorPath.Mapped, 1, 1, 1)]
    [InlineData(TensorPath.Mapped, 7, 13, 5)]
    [InlineData(TensorPath.Mapped, 33, 17, 65)]
    [InlineData(TensorPath.Staging, 9, 31, 10)]
    public void MatMul_matches_reference(TensorPath path, int m, int k, int n)
    {
        var device = Gpu.Get(path);
        var a = Reference.Random(m * k, 6);
        var b = Reference.Random(k * n, 7);
        using var ta = Tensor.FromData(device, [m, k], a);
        using var tb = Tensor.FromData(device, [k, n], b);
        using var tc = Tensor.Create(device, [m, n]);
        using var mm = MatMul.Bind(ta, tb, tc);
        using var rec = new CommandRecording(device, "matmul");
        rec.Dispatch(mm);
        rec.Finish();
        rec.Run();
        Reference.AssertClose(Reference.MatMul(a, b, m, k, n), tc.ToArray(), atol: 1e-5, rtol: 1e-5);
    }

    [Fact]
    public void A_recording_replays_with_new_input_data()
    {
        var a = Reference.Random(64, 8);
        using var ta = Tensor.FromData(Device, [64], a);
        using var ty = Tensor.Create(Device, [64]);
        using var relu = Relu.Bind(ta, ty);
        using var rec = new CommandRecording(Device, "replay");
        rec.Dispatch(relu);
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
        using var relu = Relu.Bind(tx, ty);
        using var rec = new CommandRecording(Device, "zero-alloc");
        rec.Dispatch(relu);
        rec.Finish();
        var output = new float[32];
        for (int i = 0; i < 5; i++) { rec.Run(); ty.Download(output); }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) { rec.Run(); ty.Download(output); }
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(before, after);
    }
}
