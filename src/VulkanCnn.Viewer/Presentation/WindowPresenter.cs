using Silk.NET.Vulkan;
using VulkanCnn.Imaging;
using VulkanCnn.Viewer.Glfw;
using VulkanCnn.Viewer.Overlay;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Viewer.Presentation;

/// <summary>What <see cref="WindowPresenter.Present"/> did.</summary>
public enum PresentOutcome { Presented, Minimised, Recreated, Skipped }

/// <summary>
/// Shows composed frames in a GLFW window through a swapchain on the same VkDevice and queue that run the
/// network. One display recording per swapchain image, recorded once: the compose dispatch, then a copy of its
/// output into the image (no device-to-host copy). One frame in flight, so the host may rewrite the frame and
/// overlay buffers as soon as <see cref="Present"/> returns. Resizing recreates the swapchain.
/// </summary>
public sealed unsafe class WindowPresenter : IDisposable
{
    private const string SwapchainExtension = "VK_KHR_swapchain";
    private readonly GpuDevice _gpu;
    private readonly GlfwWindow _window;
    private readonly FramePixels _frame;
    private readonly SurfaceApi _api;
    private readonly bool _vsync;
    private readonly ulong _surface, _acquired;
    private Swapchain? _swapchain;
    private FrameComposer? _composer;
    private CommandRecording[] _recordings = [];
    private ulong[] _rendered = [];
    private bool _stale, _disposed;
    private (int Width, int Height) _requested; // the window size the swapchain was built for (its extent may differ)

    /// <summary><paramref name="options"/> plus GLFW's surface instance extensions and VK_KHR_swapchain. Starts GLFW;
    /// throws <see cref="DisplayUnavailableException"/> when no window can be opened here.</summary>
    public static GpuDeviceOptions DeviceOptions(GpuDeviceOptions? options = null)
    {
        options ??= new GpuDeviceOptions();
        return options with
        {
            InstanceExtensions = options.InstanceExtensions.Concat(GlfwWindow.RequiredInstanceExtensions()).Distinct().ToList(),
            DeviceExtensions = options.DeviceExtensions.Append(SwapchainExtension).Distinct().ToList(),
        };
    }

    public WindowPresenter(GpuDevice gpu, GlfwWindow window, FramePixels frame, bool vsync = false)
    {
        _gpu = gpu; _window = window; _frame = frame; _vsync = vsync;
        _api = new SurfaceApi(gpu);
        var native = gpu.Native;
        _surface = window.CreateSurface(native.Instance);
        try
        {
            uint supported;
            SurfaceApi.Check(_api.GetSurfaceSupport(native.PhysicalDevice, native.QueueFamilyIndex, _surface, &supported),
                "vkGetPhysicalDeviceSurfaceSupportKHR");
            if (supported == 0)
                throw new DisplayUnavailableException($"'{gpu.Info.Name}' cannot present to this window from its compute queue family " +
                    $"{native.QueueFamilyIndex}.");
            _acquired = _api.NewSemaphore();
            var (w, h) = window.FramebufferSize;
            Build((uint)Math.Max(w, 1), (uint)Math.Max(h, 1));
            _requested = (w, h);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The display pass for the current swapchain size; upload the overlay through it.</summary>
    public FrameComposer Composer => _composer ?? throw new ObjectDisposedException(nameof(WindowPresenter));
    public int Width => (int)_swapchain!.Extent.Width;
    public int Height => (int)_swapchain!.Extent.Height;
    public string PresentMode =>
        _swapchain!.PresentMode.ToString().Replace("PresentMode", "", StringComparison.Ordinal).Replace("Khr", "",
            StringComparison.Ordinal);
    /// <summary>The display recordings, one per swapchain image (for inspection: they hold no device-to-host copy).</summary>
    public IReadOnlyList<CommandRecording> DisplayRecordings => _recordings;
    /// <summary>How many times the swapchain was rebuilt (window resized).</summary>
    public int Recreations { get; private set; }

    /// <summary>
    /// Presents the current frame and overlay and waits until the GPU has drawn it. Returns
    /// <see cref="PresentOutcome.Minimised"/> without drawing while the window has no area, and
    /// <see cref="PresentOutcome.Recreated"/> when the window changed size (the composer is new: re-upload the overlay),
    /// <see cref="PresentOutcome.Skipped"/> when no swapchain image became free within a second.
    /// </summary>
    public PresentOutcome Present()
    {
        var (w, h) = _window.FramebufferSize;
        if (w == 0 || h == 0 || _window.IsIconified) return PresentOutcome.Minimised;
        if (_stale || (w, h) != _requested)
        {
            Rebuild((uint)w, (uint)h);
            return PresentOutcome.Recreated;
        }
        var index = _swapchain!.Acquire(_acquired, out bool suboptimal, out bool outOfDate);
        if (outOfDate)
        {
            Rebuild((uint)w, (uint)h);
            return PresentOutcome.Recreated;
        }
        if (index is not { } i) return PresentOutcome.Skipped;
        var recording = _recordings[i];
        recording.Submit([(nint)_acquired], [(nint)_rendered[i]]);
        var result = _gpu.WithQueue((Api: _api, Semaphore: _rendered[i], Swapchain: _swapchain.Handle, Image: i), static (queue, f) =>
        {
            ulong s = f.Semaphore, sc = f.Swapchain;
            uint image = f.Image;
            var info = new PresentInfoKHR
            {
                SType = StructureType.PresentInfoKhr,
                WaitSemaphoreCount = 1,
                PWaitSemaphores = (Silk.NET.Vulkan.Semaphore*)&s,
                SwapchainCount = 1,
                PSwapchains = (SwapchainKHR*)&sc,
                PImageIndices = &image,
            };
            return f.Api.QueuePresent(queue, &info);
        });
        recording.Wait(TimeSpan.FromSeconds(30));
        if (result is Result.ErrorOutOfDateKhr or Result.SuboptimalKhr || suboptimal) _stale = true;
        else SurfaceApi.Check(result, "vkQueuePresentKHR");
        return PresentOutcome.Presented;
    }

    private void Rebuild(uint width, uint height)
    {
        _gpu.WaitIdle();
        ReleaseFrameResources(keepSwapchain: true);
        var old = _swapchain;
        try { Build(width, height, old?.Handle ?? 0); }
        finally { old?.Dispose(); }
        _stale = false;
        Recreations++;
    }

    private void Build(uint width, uint height, ulong oldSwapchain = 0)
    {
        _swapchain = new Swapchain(_api, _surface, width, height, _vsync, oldSwapchain);
        _requested = ((int)width, (int)height);
        var extent = _swapchain.Extent;
        _composer = new FrameComposer(_gpu, _frame, (int)extent.Width, (int)extent.Height, _swapchain.IsBgra ? PixelOrder.Bgra
            : PixelOrder.Rgba);
        _rendered = new ulong[_swapchain.Images.Count];
        _recordings = new CommandRecording[_swapchain.Images.Count];
        for (int i = 0; i < _recordings.Length; i++)
        {
            _rendered[i] = _api.NewSemaphore();
            var rec = new CommandRecording(_gpu, $"display image {i}");
            _recordings[i] = rec;
            rec.Dispatch(_composer.Kernel);
            rec.CopyToPresentableImage(_composer.Output.Buffer, _swapchain.Images[i], extent.Width, extent.Height, $"swapchain image {i}");
            rec.Finish();
        }
    }

    private void ReleaseFrameResources(bool keepSwapchain)
    {
        foreach (var r in _recordings) r?.Dispose();
        _recordings = [];
        foreach (var s in _rendered) if (s != 0) _api.DestroySemaphore(_api.Native.Device, s, null);
        _rendered = [];
        _composer?.Dispose();
        _composer = null;
        if (!keepSwapchain) { _swapchain?.Dispose(); _swapchain = null; }
    }

    /// <summary>Waits for the GPU, then destroys the recordings, semaphores, swapchain and surface (validation clean).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { _gpu.WaitIdle(); } catch (ObjectDisposedException) { return; }
        ReleaseFrameResources(keepSwapchain: false);
        if (_acquired != 0) _api.DestroySemaphore(_api.Native.Device, _acquired, null);
        if (_surface != 0) _api.DestroySurface(_api.Native.Instance, _surface, null);
    }
}
