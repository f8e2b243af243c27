using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Vulkan;

public sealed class DisposalTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>A session outliving its device: Run, RunAsync and Submit are refused by name (they used to reach a destroyed
    /// Vulkan device and crash the process), and disposing the session afterwards is harmless.</summary>
    [Fact]
    public async Task A_session_whose_device_was_disposed_refuses_to_run_naming_the_device()
    {
        var device = Gpu.Create();
        var model = new VulkanCnn.Nn.Sequential(VulkanCnn.Nn.Layers.Conv2d(3, 4, 3, padding: 1), VulkanCnn.Nn.Layers.ReLU());
        var session = VulkanCnn.Nn.ModuleCompilation.Compile(device, model, [1, 3, 5, 5]);
        var x = new float[75];
        Assert.Equal(100, session.Run(x).Length);
        device.Dispose();
        Assert.True(device.IsDisposed);
        var e = Assert.Throws<ObjectDisposedException>(() => session.Run(x));
        Assert.Contains($"GpuDevice '{device.Info.Name}' has been disposed", e.Message);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => session.RunAsync(x, new float[100]));
        Assert.Throws<ObjectDisposedException>(() => session.Submit([], []));
        session.Dispose();
        session.Dispose();
    }

    [Fact]
    public void Using_a_disposed_tensor_names_it()
    {
        var t = Tensor.Create(Device, [2, 2], "weights");
        t.Dispose();
        t.Dispose(); // idempotent
        var e = Assert.Throws<ObjectDisposedException>(() => t.ToArray());
        Assert.Contains("'weights'", e.Message);
        Assert.Throws<ObjectDisposedException>(() => t.Upload(new float[4]));
    }

    [Fact]
    public void Submitting_a_recording_whose_kernel_buffer_was_disposed_is_refused()
    {
        var x = Tensor.Create(Device, [8], "input");
        using var y = Tensor.Create(Device, [8], "output");
        using var relu = TestKernels.Relu(x, y);
        using var rec = new CommandRecording(Device, "stale");
        relu.Record(rec);
        rec.Finish();
        x.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => rec.Submit());
        Assert.Contains("input", e.Message);
    }

    [Fact]
    public void Disposing_a_device_with_live_objects_reports_and_frees_them()
    {
        var log = new List<string>();
        var device = Gpu.Create(log: log.Add);
        var tensor = Tensor.Create(device, [16], "forgotten");
        var kernel = TestKernels.Relu(tensor, tensor);
        var rec = new CommandRecording(device, "forgotten recording");
        kernel.Record(rec);
        rec.Finish();
        rec.Run();
        Assert.True(device.LiveObjectCount >= 3);

        device.Dispose();

        var report = Assert.Single(log, l => l.Contains("live object"));
        Assert.Contains("Tensor", report);
        Assert.Contains("BoundKernel", report);
        Assert.Contains("CommandRecording", report);
        Assert.True(tensor.IsDisposed && kernel.Kernels[0].IsDisposed && rec.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => Tensor.Create(device, [1]));
        Assert.Equal(0, device.Validation!.ErrorCount);
    }

    [Fact]
    public void A_device_without_leaks_reports_nothing()
    {
        var log = new List<string>();
        using (var device = Gpu.Create(log: log.Add))
        {
            using var t = Tensor.Create(device, [4]);
        }
        Assert.DoesNotContain(log, l => l.Contains("live object"));
    }
}
