using Silk.NET.Vulkan;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Vulkan;

public sealed class BadInputTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Fact]
    public void Upload_and_download_of_the_wrong_length_name_tensor_and_argument()
    {
        using var t = Tensor.Create(Device, [2, 3], "x");
        var up = Assert.Throws<ArgumentException>(() => t.Upload(new float[5]));
        Assert.Contains("'x'", up.Message);
        Assert.Contains("[2, 3]", up.Message);
        Assert.Equal("data", up.ParamName);
        var down = Assert.Throws<ArgumentException>(() => t.Download(new float[7]));
        Assert.Equal("destination", down.ParamName);
    }

    [Theory]
    [InlineData(new[] { -1 })]
    [InlineData(new[] { 2, -3 })]
    public void Negative_dimensions_are_rejected(int[] dims)
    {
        var e = Assert.Throws<ArgumentException>(() => new TensorShape(dims));
        Assert.Contains("cannot be negative", e.Message);
    }

    [Fact]
    public void A_zero_dimension_makes_an_empty_shape_that_gets_no_buffer()
    {
        TensorShape empty = [2, 0, 3];
        Assert.True(empty.IsEmpty);
        Assert.Equal(0, empty.ElementCount);
        Assert.False(new TensorShape(2, 3).IsEmpty);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Create(Device, empty, "e"));
        Assert.Contains("'e' of shape [2, 0, 3] is empty", e.Message);
    }

    [Fact]
    public void Kernels_reject_mismatched_shapes_naming_both()
    {
        using var a = Tensor.Create(Device, [2, 3], "a");
        using var b = Tensor.Create(Device, [4, 5], "b");
        using var c = Tensor.Create(Device, [2, 5], "c");
        var matmul = new Node("MatMul", "mm", ["a", "b"], ["c"], new Attributes().Set(VariantSelector.Attribute, "naive"));
        var mm = Assert.Throws<GraphException>(() => BoundNode.Bind(Device, matmul, [a, b], [c]));
        Assert.Contains("A [2, 3]", mm.Message);
        Assert.Contains("B [4, 5]", mm.Message);
        Assert.Throws<GraphException>(() => TestKernels.Relu(a, b));
    }

    [Fact]
    public void Unknown_shader_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => Device.GetPipeline(new PipelineKey("no_such_shader", 1, 0, 64)));
        Assert.Contains("no_such_shader", e.Message);
        Assert.Contains("unary", e.Message);
    }

    [Fact]
    public void Kernel_binding_checks_buffer_count_push_constants_and_limits()
    {
        using var x = Tensor.Create(Device, [4]);
        var copy = Device.GetPipeline(new PipelineKey("copy_vec4", 2, 4, Device.DefaultWorkgroupSize));
        Assert.Throws<ArgumentException>(() => new BoundKernel(copy, [x.Buffer], (1, 1, 1), new byte[4]));
        Assert.Throws<ArgumentException>(() => new BoundKernel(copy, [x.Buffer, x.Buffer], (1, 1, 1), new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BoundKernel(copy, [x.Buffer, x.Buffer], (0, 1, 1), new byte[4]));
        Assert.Throws<ArgumentException>(() => Device.GetPipeline(new PipelineKey("copy_vec4", 2, 4, 4096)));
    }

    [Fact]
    public void VkResults_map_to_typed_exceptions_naming_the_call()
    {
        var lost = Assert.Throws<DeviceLostException>(() => Result.ErrorDeviceLost.Check("vkQueueSubmit"));
        Assert.Contains("vkQueueSubmit", lost.Message);
        var oom = Assert.Throws<OutOfDeviceMemoryException>(() => Result.ErrorOutOfDeviceMemory.Check("vkAllocateMemory"));
        Assert.Equal("vkAllocateMemory", oom.Call);
        Assert.Throws<OutOfDeviceMemoryException>(() => Result.ErrorOutOfHostMemory.Check("vkCreateBuffer"));
        var other = Assert.Throws<VulkanException>(() => Result.ErrorInitializationFailed.Check("vkCreateInstance"));
        Assert.Equal(Result.ErrorInitializationFailed, other.Result);
        Result.Success.Check("vkAnything");
    }

    [Fact]
    public void Copy_out_of_range_is_refused()
    {
        using var small = Tensor.Create(Device, [2]);
        using var large = Tensor.Create(Device, [8]);
        using var rec = new CommandRecording(Device, "copy");
        Assert.Throws<ArgumentOutOfRangeException>(() => rec.CopyBuffer(small.Buffer, large.Buffer, 32));
    }
}
