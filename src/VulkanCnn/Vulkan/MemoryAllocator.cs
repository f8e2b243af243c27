using Silk.NET.Vulkan;

namespace VulkanCnn.Vulkan;

/// <summary>Where an allocation must live.</summary>
internal enum MemoryUsage
{
    /// <summary>Tensor storage: device-local, and host-mapped too when the device offers that (unless staging is forced).</summary>
    Tensor,
    /// <summary>Host-visible memory for transfers to and from device-local tensors.</summary>
    Staging,
}

/// <summary>A range inside a <see cref="MemoryBlock"/>.</summary>
internal sealed unsafe class MemoryAllocation
{
    public required MemoryBlock Block { get; init; }
    public required ulong Offset { get; init; }
    public required ulong Size { get; init; }
    public DeviceMemory Memory => Block.Memory;
    /// <summary>Host pointer to the start of the range, or null when the memory is not host-visible.</summary>
    public byte* Mapped => Block.Mapped == null ? null : Block.Mapped + Offset;
}

/// <summary>
/// Sub-allocates buffers from large blocks (one vkAllocateMemory per block, not per tensor),
/// first fit with coalescing on free. Requests larger than half a block get a block of their own.
/// Thread-safe.
/// </summary>
internal sealed unsafe class MemoryAllocator : IDisposable
{
    private readonly Vk _vk;
    private readonly Device _device;
    private readonly PhysicalDeviceMemoryProperties _props;
    private readonly ulong _blockBytes;
    private readonly object _gate = new();
    private readonly List<MemoryBlock> _blocks = new();

    public MemoryAllocator(Vk vk, Device device, PhysicalDeviceMemoryProperties props, ulong blockBytes, bool forceStaging)
    {
        _vk = vk; _device = device; _props = props; _blockBytes = blockBytes;
        uint? mapped = forceStaging ? null
            : FindType(uint.MaxValue,
                MemoryPropertyFlags.DeviceLocalBit | MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit);
        TensorsAreHostVisible = mapped is not null;
    }

    /// <summary>True when tensors are allocated in mapped device-local memory and need no staging.</summary>
    public bool TensorsAreHostVisible { get; }

    public int BlockCount { get { lock (_gate) return _blocks.Count; } }
    public int LiveAllocationCount { get { lock (_gate) return _blocks.Sum(b => b.LiveCount); } }
    public ulong ReservedBytes { get { lock (_gate) return _blocks.Aggregate(0UL, (s, b) => s + b.Size); } }

    public MemoryAllocation Allocate(MemoryRequirements req, MemoryUsage usage)
    {
        uint typeIndex = ChooseType(req.MemoryTypeBits, usage);
        // Forced staging keeps tensors unmapped even where the only memory type is host-visible,
        // so the staging path really runs; tensor and staging blocks are therefore kept apart.
        bool map = (usage == MemoryUsage.Staging || TensorsAreHostVisible) && IsHostVisible(typeIndex);
        ulong alignment = Math.Max(req.Alignment, 16);
        lock (_gate)
        {
            if (req.Size <= _blockBytes / 2)
            {
                foreach (var block in _blocks)
                    if (block.TypeIndex == typeIndex && block.IsMapped == map && !block.Dedicated
                        && block.TryAllocate(req.Size, alignment) is { } a)
                        return a;
            }
            bool dedicated = req.Size > _blockBytes / 2;
            var fresh = MemoryBlock.Create(_vk, _device, typeIndex, dedicated ? req.Size : _blockBytes, dedicated, map);
            _blocks.Add(fresh);
            return fresh.TryAllocate(req.Size, alignment)
                ?? throw new InvalidOperationException("A fresh memory block could not hold its first allocation.");
        }
    }

    public void Free(MemoryAllocation allocation)
    {
        lock (_gate)
        {
            var block = allocation.Block;
            block.Release(allocation);
            // Keep one empty shared block per type for reuse; give dedicated and surplus blocks back.
            if (block.LiveCount == 0
                && (block.Dedicated
                    || _blocks.Count(b => b.TypeIndex == block.TypeIndex && b.IsMapped == block.IsMapped && b.LiveCount == 0) > 1))
            {
                _blocks.Remove(block);
                block.Destroy(_vk, _device);
            }
        }
    }

    private uint ChooseType(uint allowedBits, MemoryUsage usage)
    {
        const MemoryPropertyFlags local = MemoryPropertyFlags.DeviceLocalBit;
        const MemoryPropertyFlags host = MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit;
        uint? type = usage switch
        {
            MemoryUsage.Tensor => (TensorsAreHostVisible ? FindType(allowedBits, local | host) : null)
                ?? FindType(allowedBits, local, avoid: MemoryPropertyFlags.HostVisibleBit) ?? FindType(allowedBits, local),
            _ => FindType(allowedBits, host | MemoryPropertyFlags.HostCachedBit) ?? FindType(allowedBits, host),
        };
        return type ?? throw new VulkanException($"No Vulkan memory type suits {usage} buffers (allowed type bits 0x{allowedBits:X}).");
    }

    private uint? FindType(uint allowedBits, MemoryPropertyFlags required, MemoryPropertyFlags avoid = 0)
    {
        for (uint i = 0; i < _props.MemoryTypeCount; i++)
        {
            var flags = _props.MemoryTypes[(int)i].PropertyFlags;
            if ((allowedBits & (1u << (int)i)) != 0 && (flags & required) == required && (flags & avoid) == 0) return i;
        }
        return null;
    }

    private bool IsHostVisible(uint typeIndex) =>
        _props.MemoryTypes[(int)typeIndex].PropertyFlags.HasFlag(MemoryPropertyFlags.HostVisibleBit);

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var b in _blocks) b.Destroy(_vk, _device);
            _blocks.Clear();
        }
    }
}

/// <summary>One vkAllocateMemory, mapped once if host-visible, with a sorted free list.</summary>
internal sealed unsafe class MemoryBlock
{
    private readonly List<(ulong Offset, ulong Size)> _free = new();

    private MemoryBlock(DeviceMemory memory, uint typeIndex, ulong size, bool dedicated, byte* mapped)
    {
        Memory = memory; TypeIndex = typeIndex; Size = size; Dedicated = dedicated; Mapped = mapped;
        _free.Add((0, size));
    }

    public DeviceMemory Memory { get; }
    public uint TypeIndex { get; }
    public ulong Size { get; }
    public bool Dedicated { get; }
    public byte* Mapped { get; }
    public bool IsMapped => Mapped != null;
    public int LiveCount { get; private set; }

    public static MemoryBlock Create(Vk vk, Device device, uint typeIndex, ulong size, bool dedicated, bool map)
    {
        var info = new MemoryAllocateInfo { SType = StructureType.MemoryAllocateInfo, AllocationSize = size, MemoryTypeIndex = typeIndex };
        DeviceMemory memory;
        var r = vk.AllocateMemory(device, &info, null, &memory);
        if (r is Result.ErrorOutOfDeviceMemory or Result.ErrorOutOfHostMemory)
            throw new OutOfDeviceMemoryException("vkAllocateMemory", r,
                $"could not allocate {size / (1024.0 * 1024.0):0.0} MiB of device memory");
        r.Check("vkAllocateMemory");
        void* mapped = null;
        if (map) vk.MapMemory(device, memory, 0, Vk.WholeSize, 0, &mapped).Check("vkMapMemory");
        return new MemoryBlock(memory, typeIndex, size, dedicated, (byte*)mapped);
    }

    public MemoryAllocation? TryAllocate(ulong size, ulong alignment)
    {
        for (int i = 0; i < _free.Count; i++)
        {
            var (offset, length) = _free[i];
            ulong start = (offset + alignment - 1) / alignment * alignment;
            if (start + size > offset + length) continue;
            _free.RemoveAt(i);
            // Return the head (alignment padding) and the tail to the free list.
            if (offset + length > start + size) _free.Insert(i, (start + size, offset + length - start - size));
            if (start > offset) _free.Insert(i, (offset, start - offset));
            LiveCount++;
            return new MemoryAllocation { Block = this, Offset = start, Size = size };
        }
        return null;
    }

    public void Release(MemoryAllocation a)
    {
        int i = 0;
        while (i < _free.Count && _free[i].Offset < a.Offset) i++;
        _free.Insert(i, (a.Offset, a.Size));
        // Coalesce with the next and the previous range.
        if (i + 1 < _free.Count && _free[i].Offset + _free[i].Size == _free[i + 1].Offset)
        {
            _free[i] = (_free[i].Offset, _free[i].Size + _free[i + 1].Size);
            _free.RemoveAt(i + 1);
        }
        if (i > 0 && _free[i - 1].Offset + _free[i - 1].Size == _free[i].Offset)
        {
            _free[i - 1] = (_free[i - 1].Offset, _free[i - 1].Size + _free[i].Size);
            _free.RemoveAt(i);
        }
        LiveCount--;
    }

    /// <summary>Free ranges, for tests of the allocator's bookkeeping.</summary>
    public IReadOnlyList<(ulong Offset, ulong Size)> FreeRanges => _free;

    public void Destroy(Vk vk, Device device)
    {
        if (Mapped != null) vk.UnmapMemory(device, Memory);
        vk.FreeMemory(device, Memory, null);
    }
}
