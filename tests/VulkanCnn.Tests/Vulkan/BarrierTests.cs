using VulkanCnn.Compiler;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Vulkan;

/// <summary>
/// Barriers follow hazards: a recording puts one only before a command that reads or writes bytes an
/// earlier command wrote, or writes bytes one read. The suite runs with synchronization validation on,
/// so a missing barrier fails these tests (and every other) with the layer's message.
/// </summary>
public sealed class BarrierTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Theory]
    [InlineData("unary", "Read Write")]                                   // readonly X, X4; writeonly Y, Y4
    [InlineData("conv_1x1", "Read Read Read Read Write")]
    [InlineData("adam_step", "ReadWrite Read ReadWrite ReadWrite Read")]  // Param, M, V updated in place; Hyper readonly
    public void Binding_access_comes_from_the_shaders_readonly_and_writeonly_qualifiers(string shader, string access)
    {
        var expected = access.Split(' ').Select(Enum.Parse<BufferAccess>).ToArray();
        Assert.Equal(expected, ShaderInterface.BindingAccess(ShaderLibrary.GetSpirv(shader), expected.Length, shader));
    }

    [Fact]
    public void Every_shader_binding_is_read_or_written()
    {
        // A binding the reader called None would never get a barrier: each declared binding of every shader must be seen.
        foreach (var name in ShaderLibrary.Names)
        {
            var access = ShaderInterface.BindingAccess(ShaderLibrary.GetSpirv(name), 16, name);
            int declared = Array.FindLastIndex(access, a => a != BufferAccess.None) + 1;
            for (int b = 0; b < declared; b++)
                Assert.True(access[b] != BufferAccess.None, $"{name} binding {b} is neither read nor written");
        }
    }

    public static TheoryData<string, int> Pairs => new()
    {
        { "independent", 0 },      // x -> y, a -> b
        { "read-read", 0 },        // x -> y, x -> b
        { "read-after-write", 1 }, // x -> y, y -> b
        { "write-after-read", 1 }, // x -> y, a -> x
        { "write-after-write", 1 },// x -> y, a -> y
        { "disjoint-views", 0 },   // two halves of one buffer, each written by one kernel
        { "overlapping-views", 1 },// a view that overlaps the first kernel's output by one offset alignment
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Two_relus_get_a_barrier_only_when_they_conflict(string pair, int barriers)
    {
        const int n = 64;
        var xs = Reference.Random(n, 1);
        var as_ = Reference.Random(n, 2);
        using var arena = GpuBuffer.Create(Device, 4 * 4 * n, MemoryUsage.Tensor, "arena");
        using var x = Tensor.FromData(Device, [n], xs, "x");
        using var a = Tensor.FromData(Device, [n], as_, "a");
        using var y = Tensor.Create(Device, [n], "y");
        using var b = Tensor.Create(Device, [n], "b");
        using var half0 = Tensor.View(arena, [n], "half0", byteOffset: 0);
        using var half1 = Tensor.View(arena, [n], "half1", byteOffset: 4 * n);
        ulong step = Math.Max(16, Device.Info.Limits.MinStorageBufferOffsetAlignment);
        using var overlap = Tensor.View(arena, [n], "overlap", byteOffset: 4 * n - step);
        var (first, second) = pair switch
        {
            "independent" => ((x, y), (a, b)),
            "read-read" => ((x, y), (x, b)),
            "read-after-write" => ((x, y), (y, b)),
            "write-after-read" => ((x, y), (a, x)),
            "write-after-write" => ((x, y), (a, y)),
            "disjoint-views" => ((x, half0), (a, half1)),
            _ => ((x, half0), (a, overlap)),
        };
        using var k1 = TestKernels.Relu(first.Item1, first.Item2);
        using var k2 = TestKernels.Relu(second.Item1, second.Item2);
        using var rec = new CommandRecording(Device, pair);
        k1.Record(rec);
        k2.Record(rec);
        rec.Finish();
        rec.Run();
        Assert.Equal(barriers, rec.BarrierCount);

        // And the results are what running them one after the other gives.
        float[] Relu(float[] v) => Reference.Relu(v);
        var expected2 = Relu(pair == "read-after-write" ? Relu(xs) : second.Item1 == x ? xs : as_);
        Reference.AssertClose(expected2, second.Item2.ToArray(), atol: 0, rtol: 0);
        if (pair is not ("write-after-write" or "overlapping-views"))
            Reference.AssertClose(Relu(xs), first.Item2.ToArray(), atol: 0, rtol: 0);
    }

    [Fact]
    public void The_every_command_policy_keeps_the_old_barrier_after_each_write()
    {
        const int n = 32;
        using var x = Tensor.FromData(Device, [n], Reference.Random(n, 3));
        using var a = Tensor.FromData(Device, [n], Reference.Random(n, 4));
        using var y = Tensor.Create(Device, [n]);
        using var b = Tensor.Create(Device, [n]);
        using var k1 = TestKernels.Relu(x, y);
        using var k2 = TestKernels.Relu(a, b);
        using var rec = new CommandRecording(Device, "every", barriers: BarrierPolicy.EveryCommand);
        k1.Record(rec);
        k2.Record(rec);
        rec.Fill(y);
        rec.Finish();
        rec.Run();
        Assert.Equal(2, rec.BarrierCount);
        Assert.Equal(BarrierPolicy.EveryCommand, rec.Barriers);
        Assert.All(y.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void A_fill_then_a_kernel_that_reads_it_is_ordered()
    {
        const int n = 16;
        using var g = Tensor.FromData(Device, [n], Enumerable.Repeat(-5f, n).ToArray());
        using var y = Tensor.FromData(Device, [n], Enumerable.Repeat(7f, n).ToArray());
        using var relu = TestKernels.Relu(g, y);
        using var rec = new CommandRecording(Device, "fill→relu");
        rec.Fill(g, BitConverter.SingleToUInt32Bits(3f));
        relu.Record(rec);
        rec.Finish();
        rec.Run();
        Assert.Equal(1, rec.BarrierCount);
        Assert.All(y.ToArray(), v => Assert.Equal(3f, v));
    }

    [Theory]
    [InlineData("inception")]
    [InlineData("small-resnet")]
    public void Branching_networks_record_fewer_barriers_and_compute_the_same(string name)
    {
        Init.ManualSeed(7);
        Module model = name == "inception" ? new InceptionBlock(8, 4, 6) : SmallModels.Create("small-resnet");
        TensorShape shape = name == "inception" ? [2, 8, 9, 11] : [2, 1, 28, 28];
        var input = Reference.Random((int)shape.ElementCount, 8);
        using var hazards = Device.Compile(model, shape);
        using var every = Device.Compile(model, shape, new SessionOptions { Barriers = BarrierPolicy.EveryCommand });
        var a = hazards.Run(input);
        var b = every.Run(input);
        Assert.Equal(b, a); // the same kernels in the same order: bit for bit
        var (h, e) = (hazards.DefaultPlan.Recording, every.DefaultPlan.Recording);
        Assert.Equal(e.DispatchCount, h.DispatchCount);
        Assert.True(h.BarrierCount < e.BarrierCount, $"{h.BarrierCount} barriers with hazards vs {e.BarrierCount} after every command");
    }
}
