using VulkanCnn.Imaging;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Viewer.Glfw;
using VulkanCnn.Viewer.Overlay;
using VulkanCnn.Viewer.Presentation;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Viewer;

/// <summary>A real GLFW window on the test run's Xvfb, presented through a swapchain on a validated device.</summary>
[Collection(GpuCollection.Name)]
public sealed class WindowPresenterTests
{
    [Fact]
    public void Presents_through_a_swapchain_on_the_networks_device_without_host_copies_then_resizes_and_cleans_up()
    {
        _ = VirtualDisplay.Name;
        var gpu = GpuDevice.Create(WindowPresenter.DeviceOptions(new GpuDeviceOptions { Validation = true, Log = _ => { } }));
        try
        {
            using (var window = GlfwWindow.Create(320, 240, "presenter test"))
            using (var pixels = new FramePixels(gpu, 64, 48))
            using (var presenter = new WindowPresenter(gpu, window, pixels))
            {
                pixels.Upload(Enumerable.Range(0, 64 * 48 * 3).Select(i => (byte)i).ToArray());
                Assert.Equal((320, 240), (presenter.Width, presenter.Height));
                var overlay = new FrameOverlay();
                overlay.Text(4, 4, "hello", FrameOverlay.Color(255, 255, 255), 2);
                presenter.Composer.UploadOverlay(overlay);
                for (int i = 0; i < 5; i++)
                {
                    GlfwWindow.PollEvents();
                    Assert.Equal(PresentOutcome.Presented, presenter.Present());
                }
                Assert.True(presenter.DisplayRecordings.Count >= 2);
                foreach (var rec in presenter.DisplayRecordings)
                {
                    Assert.Equal([RecordedCommandKind.Dispatch, RecordedCommandKind.CopyToImage], rec.Commands.Select(c => c.Kind));
                    Assert.DoesNotContain(rec.Commands, c => c.DeviceToHost);
                }

                window.SetSize(400, 300);
                var outcome = PresentOutcome.Presented;
                for (int i = 0; i < 100 && outcome != PresentOutcome.Recreated; i++)
                {
                    GlfwWindow.PollEvents();
                    outcome = presenter.Present();
                    if (outcome != PresentOutcome.Recreated) Thread.Sleep(20);
                }
                Assert.Equal(PresentOutcome.Recreated, outcome);
                Assert.Equal((400, 300), (presenter.Width, presenter.Height));
                presenter.Composer.UploadOverlay(overlay);
                Assert.Equal(PresentOutcome.Presented, presenter.Present());
                Assert.Equal(1, presenter.Recreations);
            }
            Assert.Equal(0, gpu.LiveObjectCount);
            Assert.Empty(gpu.Validation!.ErrorsSince(0));
        }
        finally { gpu.Dispose(); }
    }

    [Fact]
    public void A_device_without_the_window_extensions_is_refused_with_a_clear_message()
    {
        _ = VirtualDisplay.Name;
        using var gpu = GpuDevice.Create(new GpuDeviceOptions { Validation = true, Log = _ => { } });
        using var window = GlfwWindow.Create(64, 64, "no extensions");
        using var pixels = new FramePixels(gpu, 8, 8);
        var e = Assert.ThrowsAny<Exception>(() => new WindowPresenter(gpu, window, pixels));
        Assert.Contains("WindowPresenter.DeviceOptions", e.Message + e.InnerException?.Message);
    }
}
