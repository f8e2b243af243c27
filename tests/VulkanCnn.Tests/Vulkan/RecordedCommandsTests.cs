using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Vulkan;

/// <summary>A recording lists its commands, and says which move device data to the host.</summary>
public sealed class RecordedCommandsTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Fact]
    public void Copies_into_staging_buffers_are_marked_device_to_host_and_others_are_not()
    {
        using var a = Tensor.FromData(Device, [64], new float[64], "a");
        using var b = Tensor.Create(Device, [64], "b");
        using var download = GpuBuffer.Create(Device, 256, MemoryUsage.Staging, "download");
        using var rec = new CommandRecording(Device, "log");
        rec.Fill(b);
        rec.CopyBuffer(a.Buffer, b.Buffer);
        rec.CopyBuffer(b.Buffer, download);
        rec.Finish();
        rec.Run();
        Assert.Equal([RecordedCommandKind.Fill, RecordedCommandKind.CopyBuffer, RecordedCommandKind.CopyBuffer],
            rec.Commands.Select(c => c.Kind));
        Assert.Equal([false, false, true], rec.Commands.Select(c => c.DeviceToHost));
        Assert.Equal("b -> download", rec.Commands[2].Name);
    }
}
