using Silk.NET.Vulkan;
using VkBuffer = Silk.NET.Vulkan.Buffer;

namespace VulkanCnn.Vulkan;

/// <summary>A storage buffer bound to a sub-allocated range of device memory.</summary>
public sealed unsafe class GpuBuffer : GpuResource
{
    private readonly MemoryAllocation? _allocation;

    private GpuBuffer(GpuDevice device, string name, VkBuffer handle, MemoryAllocation? allocation, ulong size, bool isStaging = false)
        : base(device, name)
    {
        Handle = handle;
        _allocation = allocation;
        Size = size;
        IsStaging = isStaging;
    }

    /// <summary>A buffer that holds many tensors at offsets (a session's arena); each binding of it stays within
    /// maxStorageBufferRange, the buffer itself may be larger.</summary>
    internal static GpuBuffer CreateArena(GpuDevice device, ulong size, string name) =>
        Create(device, size, MemoryUsage.Tensor, name, checkBindingRange: false);

    internal static GpuBuffer Create(GpuDevice device, ulong size, MemoryUsage usage, string name, bool checkBindingRange = true)
    {
        device.ThrowIfDisposed();
        if (size == 0) throw new ArgumentOutOfRangeException(nameof(size), $"Buffer '{name}' must hold at least one byte.");
        ulong limit = device.Info.Limits.MaxStorageBufferRange;
        if (usage == MemoryUsage.Tensor && checkBindingRange && size > limit)
            throw new TensorTooLargeException(name, size, limit, device.Info.Name);

        ulong heap = device.Info.MemoryHeaps.Where(h => h.DeviceLocal).Select(h => h.SizeBytes).DefaultIfEmpty(0UL).Max();
        string Heap() => $"'{device.Info.Name}' has {Mib(heap)} of device-local memory and allocates at most " +
            $"{Mib(device.Info.Limits.MaxMemoryAllocationSize)} at once";
        if (size > device.Info.Limits.MaxMemoryAllocationSize)
            throw new OutOfDeviceMemoryException("vkAllocateMemory", Result.ErrorOutOfDeviceMemory,
                $"buffer '{name}' needs {Mib(size)}; {Heap()} (maxMemoryAllocationSize). Use a smaller batch or input size.");

        var vk = device.Vk;
        var info = new BufferCreateInfo
        {
            SType = StructureType.BufferCreateInfo,
            Size = size,
            Usage = BufferUsageFlags.StorageBufferBit | BufferUsageFlags.TransferSrcBit | BufferUsageFlags.TransferDstBit,
            SharingMode = SharingMode.Exclusive,
        };
        VkBuffer buffer;
        vk.CreateBuffer(device.Handle, &info, null, &buffer).Check("vkCreateBuffer");
        try
        {
            vk.GetBufferMemoryRequirements(device.Handle, buffer, out var req);
            MemoryAllocation allocation;
            try { allocation = device.Memory.Allocate(req, usage); }
            catch (OutOfDeviceMemoryException e)
            {
                throw new OutOfDeviceMemoryException("vkAllocateMemory", e.Result,
                    $"out of device memory allocating buffer '{name}' ({Mib(size)}); {Heap()}. Free other sessions or use a smaller " +
                        "batch or input size.");
            }
            var r = vk.BindBufferMemory(device.Handle, buffer, allocation.Memory, allocation.Offset);
            if (r != Result.Success)
            {
                device.Memory.Free(allocation);
                r.Check("vkBindBufferMemory");
            }
            return new GpuBuffer(device, name, buffer, allocation, size, usage == MemoryUsage.Staging);
        }
        catch
        {
            vk.DestroyBuffer(device.Handle, buffer, null);
            throw;
        }
    }

    private static string Mib(ulong bytes) => $"{bytes / 1048576.0:0.0} MiB";

    /// <summary>
    /// A VkBuffer the host application owns (created with STORAGE_BUFFER usage, bound to its
    /// memory), so a session can read its input from or write its output to it without a CPU
    /// round trip. Disposing the wrapper leaves the buffer alone.
    /// </summary>
    public static GpuBuffer WrapExternal(GpuDevice device, nint buffer, ulong size, string name = "external")
    {
        device.ThrowIfDisposed();
        if (buffer == 0) throw new ArgumentException("The external buffer handle is null.", nameof(buffer));
        if (size == 0 || size > device.Info.Limits.MaxStorageBufferRange)
            throw new ArgumentOutOfRangeException(nameof(size),
                $"External buffer '{name}' size {size} is outside 1..maxStorageBufferRange.");
        return new GpuBuffer(device, name, new VkBuffer((ulong)buffer), null, size);
    }

    public ulong Size { get; }
    public bool IsExternal => _allocation is null;
    /// <summary>A host-transfer buffer: a copy into it moves data from the device to the host.</summary>
    public bool IsStaging { get; }
    public bool IsHostVisible => _allocation is { } a && a.Mapped != null;
    internal VkBuffer Handle { get; }
    internal override int DisposeOrder => 30;

    /// <summary>The mapped bytes; only for host-visible buffers.</summary>
    internal Span<byte> MappedBytes
    {
        get
        {
            ThrowIfDisposed();
            if (_allocation is not { } a
                || a.Mapped == null) throw new InvalidOperationException($"Buffer '{Name}' is not host-visible; use a staging transfer.");
            return new Span<byte>(a.Mapped, checked((int)Size));
        }
    }

    internal VkBuffer CheckedHandle()
    {
        ThrowIfDisposed();
        return Handle;
    }

    protected override void Release()
    {
        if (_allocation is null) return; // external: the host owns it
        Device.Vk.DestroyBuffer(Device.Handle, Handle, null);
        Device.Memory.Free(_allocation);
    }
}

/// <summary>A tensor is larger than one storage-buffer binding may address on this device.</summary>
public sealed class TensorTooLargeException : ArgumentException
{
    private const string ActivationAdvice = "Use a smaller batch or input size.";

    public TensorTooLargeException(string name, ulong bytes, ulong limit, string device)
        : this(name, bytes, limit, device, ActivationAdvice) { }

    /// <summary>As above, with <paramref name="advice"/> on what the caller can do (a weight needs other advice than an
    /// activation).</summary>
    public TensorTooLargeException(string name, ulong bytes, ulong limit, string device, string advice)
        : base($"Tensor '{name}' needs {bytes / 1048576.0:0.0} MiB but '{device}' binds at most {limit / 1048576.0:0.0} MiB " +
               $"per storage buffer (maxStorageBufferRange). {advice}")
    {
        TensorName = name; Bytes = bytes; Limit = limit;
    }

    /// <summary>The tensor (or kernel binding) that did not fit.</summary>
    public string TensorName { get; }
    public ulong Bytes { get; }
    /// <summary>The largest binding the runtime uses on the device.</summary>
    public ulong Limit { get; }
}
