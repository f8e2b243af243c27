namespace VulkanCnn.Vulkan;

/// <summary>
/// Raw handles of a Vulkan device the host application owns (VkInstance, VkPhysicalDevice,
/// VkDevice, VkQueue as native handles), for <see cref="GpuDevice.FromExternal"/>.
/// <c>QueueLock</c>: if the host submits to the same queue from other threads, the object it
/// locks around its own vkQueueSubmit/vkQueuePresentKHR calls; VulkanCnn locks it too.
/// </summary>
public sealed record ExternalDevice(nint Instance, nint PhysicalDevice, nint Device, nint Queue, uint QueueFamilyIndex,
    object? QueueLock = null);
