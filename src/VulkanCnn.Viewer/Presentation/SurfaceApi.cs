using Silk.NET.Vulkan;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Viewer.Presentation;

/// <summary>
/// The VK_KHR_surface / VK_KHR_swapchain entry points (and semaphores), loaded with vkGetInstanceProcAddr /
/// vkGetDeviceProcAddr: the Silk.NET extension classes are not available, so each is a C# function pointer.
/// </summary>
internal sealed unsafe class SurfaceApi
{
    public readonly delegate* unmanaged[Cdecl]<nint, uint, ulong, uint*, Result> GetSurfaceSupport;
    public readonly delegate* unmanaged[Cdecl]<nint, ulong, SurfaceCapabilitiesKHR*, Result> GetSurfaceCapabilities;
    public readonly delegate* unmanaged[Cdecl]<nint, ulong, uint*, SurfaceFormatKHR*, Result> GetSurfaceFormats;
    public readonly delegate* unmanaged[Cdecl]<nint, ulong, uint*, PresentModeKHR*, Result> GetPresentModes;
    public readonly delegate* unmanaged[Cdecl]<nint, ulong, void*, void> DestroySurface;
    public readonly delegate* unmanaged[Cdecl]<nint, SwapchainCreateInfoKHR*, void*, ulong*, Result> CreateSwapchain;
    public readonly delegate* unmanaged[Cdecl]<nint, ulong, void*, void> DestroySwapchain;
    public readonly delegate* unmanaged[Cdecl]<nint, ulong, uint*, ulong*, Result> GetSwapchainImages;
    public readonly delegate* unmanaged[Cdecl]<nint, ulong, ulong, ulong, ulong, uint*, Result> AcquireNextImage;
    public readonly delegate* unmanaged[Cdecl]<nint, PresentInfoKHR*, Result> QueuePresent;
    public readonly delegate* unmanaged[Cdecl]<nint, SemaphoreCreateInfo*, void*, ulong*, Result> CreateSemaphore;
    public readonly delegate* unmanaged[Cdecl]<nint, ulong, void*, void> DestroySemaphore;

    public SurfaceApi(GpuDevice gpu)
    {
        Native = gpu.Native;
        GetSurfaceSupport = (delegate* unmanaged[Cdecl]<nint, uint, ulong, uint*, Result>)Instance(gpu,
            "vkGetPhysicalDeviceSurfaceSupportKHR");
        GetSurfaceCapabilities = (delegate* unmanaged[Cdecl]<nint, ulong, SurfaceCapabilitiesKHR*, Result>)Instance(gpu,
            "vkGetPhysicalDeviceSurfaceCapabilitiesKHR");
        GetSurfaceFormats = (delegate* unmanaged[Cdecl]<nint, ulong, uint*, SurfaceFormatKHR*, Result>)Instance(gpu,
            "vkGetPhysicalDeviceSurfaceFormatsKHR");
        GetPresentModes = (delegate* unmanaged[Cdecl]<nint, ulong, uint*, PresentModeKHR*, Result>)Instance(gpu,
            "vkGetPhysicalDeviceSurfacePresentModesKHR");
        DestroySurface = (delegate* unmanaged[Cdecl]<nint, ulong, void*, void>)Instance(gpu, "vkDestroySurfaceKHR");
        CreateSwapchain = (delegate* unmanaged[Cdecl]<nint, SwapchainCreateInfoKHR*, void*, ulong*, Result>)Device(gpu,
            "vkCreateSwapchainKHR");
        DestroySwapchain = (delegate* unmanaged[Cdecl]<nint, ulong, void*, void>)Device(gpu, "vkDestroySwapchainKHR");
        GetSwapchainImages = (delegate* unmanaged[Cdecl]<nint, ulong, uint*, ulong*, Result>)Device(gpu, "vkGetSwapchainImagesKHR");
        AcquireNextImage = (delegate* unmanaged[Cdecl]<nint, ulong, ulong, ulong, ulong, uint*, Result>)Device(gpu,
            "vkAcquireNextImageKHR");
        QueuePresent = (delegate* unmanaged[Cdecl]<nint, PresentInfoKHR*, Result>)Device(gpu, "vkQueuePresentKHR");
        CreateSemaphore = (delegate* unmanaged[Cdecl]<nint, SemaphoreCreateInfo*, void*, ulong*, Result>)Device(gpu, "vkCreateSemaphore");
        DestroySemaphore = (delegate* unmanaged[Cdecl]<nint, ulong, void*, void>)Device(gpu, "vkDestroySemaphore");
    }

    public NativeHandles Native { get; }

    public ulong NewSemaphore()
    {
        var info = new SemaphoreCreateInfo { SType = StructureType.SemaphoreCreateInfo };
        ulong semaphore;
        Check(CreateSemaphore(Native.Device, &info, null, &semaphore), "vkCreateSemaphore");
        return semaphore;
    }

    public static void Check(Result result, string call)
    {
        if (result != Result.Success) throw new VulkanException(call, result);
    }

    private static nint Instance(GpuDevice gpu, string name) => gpu.GetInstanceProcAddress(name) is var p and not 0 ? p
        : throw Missing(name, "instance");

    private static nint Device(GpuDevice gpu, string name) => gpu.GetDeviceProcAddress(name) is var p and not 0 ? p
        : throw Missing(name, "device");

    private static VulkanException Missing(string name, string level) =>
        new($"{name} is missing: the GpuDevice was created without the {level} extensions a window needs " +
            "(create it with WindowPresenter.DeviceOptions, which adds GLFW's surface extensions and VK_KHR_swapchain).");
}
