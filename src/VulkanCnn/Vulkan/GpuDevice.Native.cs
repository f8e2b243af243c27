using Silk.NET.Vulkan;

namespace VulkanCnn.Vulkan;

/// <summary>The raw Vulkan handles of a <see cref="GpuDevice"/>, for code that drives Vulkan itself on the same
/// device (a swapchain presenter, a game engine's renderer). The handles stay owned by the device.</summary>
public readonly record struct NativeHandles(nint Instance, nint PhysicalDevice, nint Device, nint Queue, uint QueueFamilyIndex);

public sealed unsafe partial class GpuDevice
{
    /// <summary>The instance, physical device, device and the one queue this device runs on.</summary>
    public NativeHandles Native
    {
        get
        {
            ThrowIfDisposed();
            return new((nint)_instance.Handle.Handle, Physical.Handle, Handle.Handle, Queue.Handle, QueueFamilyIndex);
        }
    }

    /// <summary>Instance extensions enabled on this device's instance (e.g. the surface extensions a window asked for).</summary>
    public IReadOnlyList<string> InstanceExtensions => _instance.EnabledExtensions;

    /// <summary>vkGetInstanceProcAddr on this device's instance: 0 when the entry point is unknown or its extension is off.</summary>
    public nint GetInstanceProcAddress(string name)
    {
        ThrowIfDisposed();
        return _instance.GetProcAddress(name);
    }

    /// <summary>vkGetDeviceProcAddr on this device: 0 when the entry point is unknown or its extension is off.</summary>
    public nint GetDeviceProcAddress(string name)
    {
        ThrowIfDisposed();
        return (nint)Vk.GetDeviceProcAddr(Handle, name).Handle;
    }

    /// <summary>Runs <paramref name="action"/> holding the queue lock, for calls such as vkQueuePresentKHR on
    /// the shared queue; submissions of this device never interleave with it.</summary>
    public T WithQueue<T>(Func<nint, T> action) => WithQueue(action, static (queue, a) => a(queue));

    /// <summary>As <see cref="WithQueue{T}(Func{nint, T})"/>, with the call's data passed in, so a per-frame caller
    /// can use a static lambda and allocate nothing.</summary>
    public T WithQueue<TState, T>(TState state, Func<nint, TState, T> action)
    {
        ThrowIfDisposed();
        lock (_queueGate) return action(Queue.Handle, state);
    }
}
