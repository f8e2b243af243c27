using System.Runtime.InteropServices;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Infrastructure;

/// <summary>A recording that keeps the GPU busy for a while (peak_fma), for wait/timeout/cancel tests.</summary>
public sealed class SlowWork : IDisposable
{
    private readonly Tensor _out;
    private readonly BoundKernel _kernel;

    /// <param name="iterations">FMA loop length per invocation; by default long enough to outlast a
    /// 1 µs wait: 60,000 on a CPU driver (lavapipe: ~1 s), 100 times more on a GPU, which runs the
    /// 4096 invocations side by side (60,000 took ~0.1 ms on an H200).</param>
    public SlowWork(GpuDevice device, uint invocations = 4096, uint? iterations = null)
    {
        uint loop = iterations ?? (device.Info.Type == DeviceKind.Cpu ? 60_000u : 6_000_000u);
        _out = Tensor.Create(device, [(int)invocations * 4], "slow.out");
        var pipeline = device.GetPipeline(new PipelineKey("peak_fma", 1, 8, device.DefaultWorkgroupSize));
        var push = new byte[8];
        MemoryMarshal.Write(push, loop);
        MemoryMarshal.Write(push.AsSpan(4), 0.5f);
        _kernel = new BoundKernel(pipeline, [_out.Buffer], (invocations / device.DefaultWorkgroupSize, 1, 1), push, "slow");
        Recording = new CommandRecording(device, "slow work");
        Recording.Dispatch(_kernel);
        Recording.Finish();
    }

    public CommandRecording Recording { get; }

    public void Dispose()
    {
        Recording.Dispose();
        _kernel.Dispose();
        _out.Dispose();
    }
}
