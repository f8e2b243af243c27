using Silk.NET.Vulkan;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;
using VkBuffer = Silk.NET.Vulkan.Buffer;

namespace VulkanCnn.Tests.Vulkan;

/// <summary>Proves that the suite's validation net catches what it is there to catch.</summary>
public sealed class ValidationTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Fact]
    public void The_shared_devices_run_with_validation()
    {
        Assert.NotNull(Gpu.Mapped.Validation);
        Assert.NotNull(Gpu.Staging.Validation);
        Assert.False(Gpu.Staging.TensorsAreHostVisible);
    }

    [Fact]
    public unsafe void An_invalid_api_call_is_reported_as_an_error()
    {
        using var device = Gpu.Create();
        var info = new BufferCreateInfo { SType = StructureType.BufferCreateInfo, Size = 0, Usage = BufferUsageFlags.StorageBufferBit };
        VkBuffer buffer;
        var r = device.Vk.CreateBuffer(device.Handle, &info, null, &buffer);
        if (r == Result.Success) device.Vk.DestroyBuffer(device.Handle, buffer, null);
        Assert.Contains(device.Validation!.ErrorsSince(0), m => m.Contains("VUID-VkBufferCreateInfo-size"));
    }

    [Fact]
    public void A_missing_barrier_is_caught_by_synchronization_validation()
    {
        using var device = Gpu.Create();
        using var x = Tensor.Create(device, [64]);
        using var y = Tensor.Create(device, [64]);
        using var z = Tensor.Create(device, [64]);
        using var first = TestKernels.Relu(x, y);
        using var second = TestKernels.Relu(y, z);
        using var rec = new CommandRecording(device, "hazard") { AutomaticBarriers = false };
        first.Record(rec);
        second.Record(rec); // reads y while the first dispatch may still write it
        rec.Finish();
        rec.Run();
        Assert.Contains(device.Validation!.ErrorsSince(0), m => m.Contains("SYNC-HAZARD"));
    }
}
