using Silk.NET.Vulkan;

namespace VulkanCnn.Vulkan;

/// <summary>A Vulkan call failed. <see cref="Call"/> names the call, <see cref="Result"/> its code.</summary>
public class VulkanException : Exception
{
    public VulkanException(string call, Result result, string? detail = null)
        : base($"{call} failed with {result}{(detail is null ? "" : ": " + detail)}")
    {
        Call = call;
        Result = result;
    }

    public VulkanException(string message) : base(message)
    {
        Call = "";
        Result = Result.ErrorUnknown;
    }

    public string Call { get; }
    public Result Result { get; }
}

/// <summary>The device was lost (driver reset, hang, removal). Every object on it is unusable.</summary>
public sealed class DeviceLostException : VulkanException
{
    public DeviceLostException(string call)
        : base(call, Result.ErrorDeviceLost, "the GPU device was lost; dispose the GpuDevice and create a new one") { }
}

/// <summary>Device or host memory ran out while Vulkan allocated.</summary>
public sealed class OutOfDeviceMemoryException : VulkanException
{
    public OutOfDeviceMemoryException(string call, Result result, string? detail = null)
        : base(call, result, detail ?? "out of memory; use smaller tensors or batches") { }
}

/// <summary>No Vulkan driver or no physical device is available.</summary>
public sealed class NoVulkanDeviceException : VulkanException
{
    public const string InstallHint =
        "Install a Vulkan driver: on Debian/Ubuntu `sudo apt-get install libvulkan1 mesa-vulkan-drivers` " +
        "gives the lavapipe CPU device; on Windows/macOS install your GPU vendor's driver (MoltenVK on macOS).";

    public NoVulkanDeviceException(string reason) : base($"{reason}. {InstallHint}") { }
}

/// <summary>A GPU wait passed its timeout. The work may still complete later.</summary>
public sealed class GpuTimeoutException : TimeoutException
{
    public GpuTimeoutException(string what, TimeSpan timeout)
        : base($"{what} did not complete within {timeout.TotalMilliseconds:0} ms") { }
}

/// <summary>Checks every VkResult in one place and maps it to a typed exception naming the call.</summary>
internal static class VkCheck
{
    public static void Check(this Result result, string call)
    {
        if (result == Result.Success) return;
        throw ToException(result, call);
    }

    public static Exception ToException(Result result, string call) => result switch
    {
        Result.ErrorDeviceLost => new DeviceLostException(call),
        Result.ErrorOutOfDeviceMemory or Result.ErrorOutOfHostMemory or Result.ErrorOutOfPoolMemory
            or Result.ErrorFragmentedPool => new OutOfDeviceMemoryException(call, result),
        Result.ErrorIncompatibleDriver => new NoVulkanDeviceException($"{call} failed with {result} (no compatible Vulkan driver)"),
        _ => new VulkanException(call, result),
    };
}
