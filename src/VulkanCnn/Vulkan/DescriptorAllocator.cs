using Silk.NET.Vulkan;

namespace VulkanCnn.Vulkan;

/// <summary>
/// Storage-buffer descriptor sets from a growing list of pools. Sets are allocated when a kernel
/// is bound (once), never per dispatch. Thread-safe.
/// </summary>
internal sealed unsafe class DescriptorAllocator : IDisposable
{
    private const uint SetsPerPool = 256;
    private const uint BuffersPerSet = 8;
    private readonly GpuDevice _device;
    private readonly object _gate = new();
    private readonly List<DescriptorPool> _pools = new();

    public DescriptorAllocator(GpuDevice device) => _device = device;

    public int PoolCount { get { lock (_gate) return _pools.Count; } }

    public (DescriptorSet Set, DescriptorPool Pool) Allocate(DescriptorSetLayout layout)
    {
        lock (_gate)
        {
            for (int i = _pools.Count - 1; i >= 0; i--)
            {
                var r = TryAllocate(_pools[i], layout, out var set);
                if (r == Result.Success) return (set, _pools[i]);
                if (r is not (Result.ErrorOutOfPoolMemory or Result.ErrorFragmentedPool)) r.Check("vkAllocateDescriptorSets");
            }
            var pool = CreatePool();
            _pools.Add(pool);
            TryAllocate(pool, layout, out var fresh).Check("vkAllocateDescriptorSets");
            return (fresh, pool);
        }
    }

    public void Free(DescriptorSet set, DescriptorPool pool)
    {
        lock (_gate) _device.Vk.FreeDescriptorSets(_device.Handle, pool, 1, &set).Check("vkFreeDescriptorSets");
    }

    private Result TryAllocate(DescriptorPool pool, DescriptorSetLayout layout, out DescriptorSet set)
    {
        var info = new DescriptorSetAllocateInfo
        {
            SType = StructureType.DescriptorSetAllocateInfo,
            DescriptorPool = pool,
            DescriptorSetCount = 1,
            PSetLayouts = &layout,
        };
        DescriptorSet s;
        var r = _device.Vk.AllocateDescriptorSets(_device.Handle, &info, &s);
        set = s;
        return r;
    }

    private DescriptorPool CreatePool()
    {
        var size = new DescriptorPoolSize { Type = DescriptorType.StorageBuffer, DescriptorCount = SetsPerPool * BuffersPerSet };
        var info = new DescriptorPoolCreateInfo
        {
            SType = StructureType.DescriptorPoolCreateInfo,
            Flags = DescriptorPoolCreateFlags.FreeDescriptorSetBit,
            MaxSets = SetsPerPool,
            PoolSizeCount = 1,
            PPoolSizes = &size,
        };
        DescriptorPool pool;
        _device.Vk.CreateDescriptorPool(_device.Handle, &info, null, &pool).Check("vkCreateDescriptorPool");
        return pool;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var p in _pools) _device.Vk.DestroyDescriptorPool(_device.Handle, p, null);
            _pools.Clear();
        }
    }
}
