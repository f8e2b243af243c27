using Silk.NET.Core.Native;
using Silk.NET.Vulkan;

namespace VulkanCnn.Vulkan;

/// <summary>
/// A Vulkan device with one compute queue: the root every GPU object hangs from.
/// Thread-safety: creating and disposing tensors, pipelines, bindings and recordings, and
/// submitting, may happen from any thread (the single queue is serialised internally). One
/// recording or tensor must not be used from two threads at once.
/// </summary>
public sealed unsafe partial class GpuDevice : IDisposable
{
    private readonly VulkanInstance _instance;
    private readonly object _queueGate;
    private readonly bool _ownsDevice;
    private readonly object _liveGate = new();
    private readonly HashSet<GpuResource> _live = new();
    private bool _disposed;

    private GpuDevice(VulkanInstance instance, PhysicalDevice physical, DeviceInfo info, GpuDeviceOptions options,
        ExternalDevice? external = null)
    {
        _instance = instance;
        Physical = physical;
        Info = options.MaxBufferBytes is { } cap && cap < info.Limits.MaxStorageBufferRange
            ? info with { Limits = info.Limits with { MaxStorageBufferRange = cap } }
            : info;
        Options = options;
        Log = options.Log!;
        _queueGate = external?.QueueLock ?? new object();
        _ownsDevice = external is null;
        if (external is null)
        {
            QueueFamilyIndex = ChooseQueueFamily(info);
            Handle = CreateLogicalDevice(Vk, physical, info, QueueFamilyIndex, options.DeviceExtensions);
            Queue queue;
            Vk.GetDeviceQueue(Handle, QueueFamilyIndex, 0, &queue);
            Queue = queue;
        }
        else
        {
            QueueFamilyIndex = external.QueueFamilyIndex;
            Handle = new Device(external.Device);
            Queue = new Queue(external.Queue);
        }
        Vk.CurrentDevice = Handle;
        Vk.GetPhysicalDeviceMemoryProperties(physical, out var memProps);
        Memory = new MemoryAllocator(Vk, Handle, memProps, options.MemoryBlockBytes, options.ForceStaging == true);
        Descriptors = new DescriptorAllocator(this);
        PipelineCache = new PipelineDiskCache(this, options.DisablePipelineCache ? null : options.PipelineCacheDirectory);
        DefaultWorkgroupSize = ChooseWorkgroupSize(info);
        FenceWaiter = new FenceWaiter(this);
    }

    /// <summary>Creates a device. Selection: <see cref="GpuDeviceOptions.Device"/> or VKCNN_DEVICE, else the best by type.</summary>
    public static GpuDevice Create(GpuDeviceOptions? options = null)
    {
        var resolved = (options ?? new GpuDeviceOptions()).Resolve();
        var instance = VulkanInstance.Create(resolved.Validation == true, resolved.InstanceExtensions, resolved.Log!);
        try
        {
            var physical = instance.PhysicalDevices();
            var infos = physical.Select((p, i) => DeviceInfoReader.Read(instance.Vk, instance.Handle, p, i)).ToList();
            var chosen = DeviceSelector.Choose(infos, resolved.Device);
            return new GpuDevice(instance, physical[chosen.Index], chosen, resolved);
        }
        catch
        {
            instance.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs on a VkInstance/VkDevice/VkQueue the host application created (a game engine's own
    /// device). Nothing of the host's is destroyed here; the queue must support compute, and the
    /// host locks <see cref="ExternalDevice.QueueLock"/> around its own use of the queue if it shares it.
    /// </summary>
    public static GpuDevice FromExternal(ExternalDevice external, GpuDeviceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(external);
        var resolved = (options ?? new GpuDeviceOptions()).Resolve();
        var instance = VulkanInstance.Wrap(new Instance(external.Instance));
        try
        {
            var physical = new PhysicalDevice(external.PhysicalDevice);
            int index = instance.PhysicalDevices().ToList().FindIndex(p => p.Handle == physical.Handle);
            var info = DeviceInfoReader.Read(instance.Vk, instance.Handle, physical, Math.Max(index, 0));
            if (external.QueueFamilyIndex >= info.QueueFamilies.Count
                || !info.QueueFamilies[(int)external.QueueFamilyIndex].Flags.Contains("Compute"))
                throw new ArgumentException($"Queue family {external.QueueFamilyIndex} of '{info.Name}' does not support compute.",
                    nameof(external));
            return new GpuDevice(instance, physical, info, resolved, external);
        }
        catch
        {
            instance.Dispose();
            throw;
        }
    }

    /// <summary>The best device with default options (environment variables still apply).</summary>
    public static GpuDevice CreateDefault() => Create();

    /// <summary>Every physical device with its capability report, without creating a logical device.</summary>
    public static IReadOnlyList<DeviceInfo> EnumerateDevices()
    {
        using var instance = VulkanInstance.Create(false, [], _ => { });
        return instance.PhysicalDevices().Select((p, i) => DeviceInfoReader.Read(instance.Vk, instance.Handle, p, i)).ToList();
    }

    public DeviceInfo Info { get; }
    public GpuDeviceOptions Options { get; }
    /// <summary>Validation messages, when validation is on; null otherwise.</summary>
    public ValidationSink? Validation => _instance.Validation;
    /// <summary>True when tensors live in mapped memory; false when they move through staging buffers.</summary>
    public bool TensorsAreHostVisible => Memory.TensorsAreHostVisible;
    /// <summary>Invocations per workgroup for 1-D kernels: a multiple of the subgroup size, never hard-coded.</summary>
    public uint DefaultWorkgroupSize { get; }

    /// <summary>Whether the compute queue writes timestamps (<see cref="CommandRecording.Timestamp"/>).</summary>
    public bool HasComputeTimestamps => Info.QueueFamilies[(int)QueueFamilyIndex].TimestampValidBits > 0;

    internal Vk Vk => _instance.Vk;
    internal VulkanInstance Instance => _instance;
    internal PhysicalDevice Physical { get; }
    internal Device Handle { get; }
    internal Queue Queue { get; }
    internal uint QueueFamilyIndex { get; }
    internal MemoryAllocator Memory { get; }
    internal DescriptorAllocator Descriptors { get; }
    internal PipelineDiskCache PipelineCache { get; }
    internal FenceWaiter FenceWaiter { get; }
    internal Action<string> Log { get; }

    /// <summary>Memory blocks reserved from the driver (sub-allocated into tensors).</summary>
    public int MemoryBlockCount => Memory.BlockCount;
    /// <summary>GPU objects created on this device and not yet disposed.</summary>
    public int LiveObjectCount { get { lock (_liveGate) return _live.Count; } }

    /// <summary>True once <see cref="Dispose"/> ran: every object made on this device is unusable.</summary>
    public bool IsDisposed => _disposed;

    internal void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    internal void Track(GpuResource r) { lock (_liveGate) _live.Add(r); }
    internal void Untrack(GpuResource r) { lock (_liveGate) _live.Remove(r); }

    /// <summary>Submits one command buffer; the single queue is shared, so submission is serialised.</summary>
    internal void Submit(CommandBuffer cb, Fence fence, ReadOnlySpan<Silk.NET.Vulkan.Semaphore> wait = default,
        ReadOnlySpan<Silk.NET.Vulkan.Semaphore> signal = default)
    {
        var stages = stackalloc PipelineStageFlags[Math.Max(1, wait.Length)];
        for (int i = 0; i < wait.Length; i++) stages[i] = PipelineStageFlags.AllCommandsBit;
        fixed (Silk.NET.Vulkan.Semaphore* pw = wait)
        fixed (Silk.NET.Vulkan.Semaphore* ps = signal)
        {
            var submit = new SubmitInfo
            {
                SType = StructureType.SubmitInfo,
                CommandBufferCount = 1,
                PCommandBuffers = &cb,
                WaitSemaphoreCount = (uint)wait.Length,
                PWaitSemaphores = pw,
                PWaitDstStageMask = stages,
                SignalSemaphoreCount = (uint)signal.Length,
                PSignalSemaphores = ps,
            };
            lock (_queueGate) Vk.QueueSubmit(Queue, 1, &submit, fence).Check("vkQueueSubmit");
        }
    }

    /// <summary>Blocks until the device has finished all submitted work.</summary>
    public void WaitIdle()
    {
        ThrowIfDisposed();
        lock (_queueGate) Vk.QueueWaitIdle(Queue).Check("vkQueueWaitIdle");
    }

    private static uint ChooseQueueFamily(DeviceInfo info)
    {
        // Prefer a family with graphics too: a presenter can then share the queue with compute.
        var compute = info.QueueFamilies.Where(f => f.Flags.Contains("Compute") && f.QueueCount > 0).ToList();
        var family = compute.FirstOrDefault(f => f.Flags.Contains("Graphics")) ?? compute.FirstOrDefault()
            ?? throw new NoVulkanDeviceException($"Device '{info.Name}' has no compute queue");
        return (uint)family.Index;
    }

    private static uint ChooseWorkgroupSize(DeviceInfo info)
    {
        uint subgroup = Math.Max(1, info.Subgroup.Size);
        uint size = Math.Max(64, subgroup);
        size = size / subgroup * subgroup;
        return Math.Min(size, Math.Min(info.Limits.MaxWorkGroupInvocations, info.Limits.MaxWorkGroupSize[0]));
    }

    private static Device CreateLogicalDevice(Vk vk, PhysicalDevice pd, DeviceInfo info, uint family, IReadOnlyList<string> extensions)
    {
        float priority = 1f;
        var queueInfo = new DeviceQueueCreateInfo
        {
            SType = StructureType.DeviceQueueCreateInfo,
            QueueFamilyIndex = family,
            QueueCount = 1,
            PQueuePriorities = &priority,
        };
        var f = info.Features;
        bool v12 = info.ApiVersionRaw >= (uint)Vk.Version12;
        var f12 = new PhysicalDeviceVulkan12Features
        {
            SType = StructureType.PhysicalDeviceVulkan12Features,
            ShaderFloat16 = f.ShaderFloat16,
            ShaderInt8 = f.ShaderInt8,
            StorageBuffer8BitAccess = f.StorageBuffer8BitAccess,
        };
        var f16 = new PhysicalDevice16BitStorageFeatures
        {
            SType = StructureType.PhysicalDevice16BitStorageFeatures,
            PNext = v12 ? &f12 : null,
            StorageBuffer16BitAccess = f.StorageBuffer16BitAccess,
        };
        var features = new PhysicalDeviceFeatures2 { SType = StructureType.PhysicalDeviceFeatures2, PNext = &f16 };
        features.Features.ShaderInt16 = f.ShaderInt16;
        var available = DeviceExtensionNames(vk, pd);
        foreach (var ext in extensions)
            if (!available.Contains(ext))
                throw new VulkanException($"Device extension {ext} is not supported by '{info.Name}'.");
        // MoltenVK and other non-conformant implementations require their portability subset to be enabled.
        const string PortabilitySubset = "VK_KHR_portability_subset";
        if (available.Contains(PortabilitySubset) && !extensions.Contains(PortabilitySubset)) extensions = [.. extensions,
            PortabilitySubset];
        var extPtrs = SilkMarshal.StringArrayToPtr(extensions);
        try
        {
            var create = new DeviceCreateInfo
            {
                SType = StructureType.DeviceCreateInfo,
                PNext = &features,
                QueueCreateInfoCount = 1,
                PQueueCreateInfos = &queueInfo,
                EnabledExtensionCount = (uint)extensions.Count,
                PpEnabledExtensionNames = (byte**)extPtrs,
                PEnabledFeatures = null,
            };
            Device device;
            vk.CreateDevice(pd, &create, null, &device).Check("vkCreateDevice");
            return device;
        }
        finally
        {
            SilkMarshal.Free(extPtrs);
        }
    }

    internal static HashSet<string> DeviceExtensionNames(Vk vk, PhysicalDevice pd)
    {
        uint count = 0;
        vk.EnumerateDeviceExtensionProperties(pd, (byte*)null, &count, null).Check("vkEnumerateDeviceExtensionProperties");
        var props = new ExtensionProperties[count];
        fixed (ExtensionProperties* p = props) vk.EnumerateDeviceExtensionProperties(pd, (byte*)null, &count,
            p).Check("vkEnumerateDeviceExtensionProperties");
        var names = new HashSet<string>();
        foreach (var e in props) names.Add(SilkMarshal.PtrToString((nint)e.ExtensionName)!);
        return names;
    }

    /// <summary>
    /// Waits for the GPU, reports and disposes objects that are still alive (a leak in the
    /// caller), then destroys the device and instance.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (_ownsDevice)
            try { lock (_queueGate) Vk.DeviceWaitIdle(Handle); } catch { /* device may be lost; tear down anyway */ }
        FenceWaiter.Dispose(); // before leaked recordings destroy fences it might be waiting on
        GpuResource[] leaked;
        lock (_liveGate) leaked = _live.ToArray();
        if (leaked.Length > 0)
        {
            var summary = string.Join(", ", leaked.GroupBy(r => r.GetType().Name).Select(g => $"{g.Count()} {g.Key}"));
            Log($"[vkcnn] GpuDevice disposed with {leaked.Length} live object(s): {summary}. Dispose them before the device.");
            foreach (var r in leaked.OrderBy(r => r.DisposeOrder)) r.Dispose();
        }
        _disposed = true;
        DestroyPipelines();
        PipelineCache.Dispose();
        Descriptors.Dispose();
        Memory.Dispose();
        if (_ownsDevice) Vk.DestroyDevice(Handle, null);
        _instance.Dispose();
    }
}
