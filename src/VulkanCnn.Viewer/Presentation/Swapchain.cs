using Silk.NET.Vulkan;

namespace VulkanCnn.Viewer.Presentation;

/// <summary>
/// A VkSwapchainKHR whose images are written by transfer (the composed frame is copied in), in a B8G8R8A8 or
/// R8G8B8A8 format, with the least-latency present mode offered (mailbox, immediate, then FIFO) unless
/// vsync is asked for.
/// </summary>
internal sealed unsafe class Swapchain : IDisposable
{
    private readonly SurfaceApi _api;
    private ulong _handle;

    public Swapchain(SurfaceApi api, ulong surface, uint width, uint height, bool vsync, ulong oldSwapchain = 0)
    {
        _api = api;
        var native = api.Native;
        SurfaceCapabilitiesKHR caps;
        SurfaceApi.Check(api.GetSurfaceCapabilities(native.PhysicalDevice, surface, &caps), "vkGetPhysicalDeviceSurfaceCapabilitiesKHR");
        if ((caps.SupportedUsageFlags & ImageUsageFlags.TransferDstBit) == 0)
            throw new Glfw.DisplayUnavailableException("The window's swapchain images cannot be written by transfer (no TRANSFER_DST " +
                "usage).");
        var format = ChooseFormat(api, native.PhysicalDevice, surface);
        var mode = ChooseMode(api, native.PhysicalDevice, surface, vsync);
        Extent = caps.CurrentExtent.Width != uint.MaxValue ? caps.CurrentExtent
            : new Extent2D(Math.Clamp(width, caps.MinImageExtent.Width, caps.MaxImageExtent.Width),
                           Math.Clamp(height, caps.MinImageExtent.Height, caps.MaxImageExtent.Height));
        uint count = Math.Max(caps.MinImageCount + 1, 3);
        if (caps.MaxImageCount != 0) count = Math.Min(count, caps.MaxImageCount);
        var alpha = (caps.SupportedCompositeAlpha & CompositeAlphaFlagsKHR.OpaqueBitKhr) != 0 ? CompositeAlphaFlagsKHR.OpaqueBitKhr
            // lowest supported bit
            : (CompositeAlphaFlagsKHR)((uint)caps.SupportedCompositeAlpha & (uint)-(int)caps.SupportedCompositeAlpha);
        var info = new SwapchainCreateInfoKHR
        {
            SType = StructureType.SwapchainCreateInfoKhr,
            Surface = new SurfaceKHR(surface),
            MinImageCount = count,
            ImageFormat = format.Format,
            ImageColorSpace = format.ColorSpace,
            ImageExtent = Extent,
            ImageArrayLayers = 1,
            ImageUsage = ImageUsageFlags.TransferDstBit,
            ImageSharingMode = SharingMode.Exclusive,
            PreTransform = caps.CurrentTransform,
            CompositeAlpha = alpha,
            PresentMode = mode,
            Clipped = true,
            OldSwapchain = new SwapchainKHR(oldSwapchain),
        };
        ulong handle;
        SurfaceApi.Check(api.CreateSwapchain(native.Device, &info, null, &handle), "vkCreateSwapchainKHR");
        _handle = handle;
        Format = format.Format;
        PresentMode = mode;
        try
        {
            uint n = 0;
            SurfaceApi.Check(api.GetSwapchainImages(native.Device, handle, &n, null), "vkGetSwapchainImagesKHR");
            var images = new ulong[n];
            fixed (ulong* p = images) SurfaceApi.Check(api.GetSwapchainImages(native.Device, handle, &n, p), "vkGetSwapchainImagesKHR");
            Images = images.Select(i => (nint)i).ToArray();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ulong Handle => _handle;
    public Extent2D Extent { get; }
    public Format Format { get; }
    public PresentModeKHR PresentMode { get; }
    public bool IsBgra => Format is Format.B8G8R8A8Unorm or Format.B8G8R8A8Srgb;
    /// <summary>The swapchain's images (owned by the swapchain).</summary>
    public IReadOnlyList<nint> Images { get; }

    /// <summary>Index of the next image; null when none came within the timeout (skip the frame) or when the swapchain
    /// no longer matches the window (<paramref name="outOfDate"/>: recreate it).</summary>
    public uint? Acquire(ulong signalSemaphore, out bool suboptimal, out bool outOfDate)
    {
        uint index;
        var r = _api.AcquireNextImage(_api.Native.Device, _handle, 1_000_000_000UL, signalSemaphore, 0, &index);
        suboptimal = r == Result.SuboptimalKhr;
        outOfDate = r == Result.ErrorOutOfDateKhr;
        if (outOfDate || r is Result.Timeout or Result.NotReady) return null;
        if (r != Result.SuboptimalKhr) SurfaceApi.Check(r, "vkAcquireNextImageKHR");
        return index;
    }

    private static SurfaceFormatKHR ChooseFormat(SurfaceApi api, nint physical, ulong surface)
    {
        uint n = 0;
        SurfaceApi.Check(api.GetSurfaceFormats(physical, surface, &n, null), "vkGetPhysicalDeviceSurfaceFormatsKHR");
        var formats = new SurfaceFormatKHR[n];
        fixed (SurfaceFormatKHR* p = formats) SurfaceApi.Check(api.GetSurfaceFormats(physical, surface, &n, p),
            "vkGetPhysicalDeviceSurfaceFormatsKHR");
        // Camera pixels are already sRGB-encoded bytes; a UNORM image shows them unchanged.
        Format[] preferred = [Format.B8G8R8A8Unorm, Format.R8G8B8A8Unorm, Format.B8G8R8A8Srgb, Format.R8G8B8A8Srgb];
        foreach (var want in preferred)
            foreach (var f in formats)
                if (f.Format == want) return f;
        throw new Glfw.DisplayUnavailableException($"The window offers no 8-bit RGBA/BGRA format (offered: " +
            $"{string.Join(", ", formats.Select(f => f.Format))}).");
    }

    private static PresentModeKHR ChooseMode(SurfaceApi api, nint physical, ulong surface, bool vsync)
    {
        uint n = 0;
        SurfaceApi.Check(api.GetPresentModes(physical, surface, &n, null), "vkGetPhysicalDeviceSurfacePresentModesKHR");
        var modes = new PresentModeKHR[n];
        fixed (PresentModeKHR* p = modes) SurfaceApi.Check(api.GetPresentModes(physical, surface, &n, p),
            "vkGetPhysicalDeviceSurfacePresentModesKHR");
        if (vsync) return PresentModeKHR.FifoKhr; // always supported
        foreach (var want in new[] { PresentModeKHR.MailboxKhr, PresentModeKHR.ImmediateKhr })
            if (modes.Contains(want)) return want;
        return PresentModeKHR.FifoKhr;
    }

    public void Dispose()
    {
        if (_handle == 0) return;
        _api.DestroySwapchain(_api.Native.Device, _handle, null);
        _handle = 0;
    }
}
