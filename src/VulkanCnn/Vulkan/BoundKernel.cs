using Silk.NET.Vulkan;

namespace VulkanCnn.Vulkan;

/// <summary>
/// A pipeline with its buffers, push constants and workgroup counts fixed: everything one
/// dispatch needs. The descriptor set is allocated and written once here, so recording and
/// replaying allocate nothing.
/// </summary>
public sealed unsafe class BoundKernel : GpuResource
{
    private readonly DescriptorPool _pool;
    private readonly GpuBuffer[] _buffers;

    public BoundKernel(ComputePipeline pipeline, IReadOnlyList<GpuBuffer> buffers, (uint X, uint Y, uint Z) groups,
        ReadOnlySpan<byte> pushConstants, string? name = null)
        : base(buffers.Count > 0 ? buffers[0].Device : throw new ArgumentException("A kernel needs at least one buffer.", nameof(buffers)),
               name ?? pipeline.Description.Shader)
    {
        var d = pipeline.Description;
        if (buffers.Count != d.BufferCount)
            throw new ArgumentException($"Kernel '{d.Shader}' takes {d.BufferCount} buffers, got {buffers.Count}.", nameof(buffers));
        if (pushConstants.Length != d.PushConstantBytes)
            throw new ArgumentException($"Kernel '{d.Shader}' takes {d.PushConstantBytes} push-constant bytes, got {pushConstants.Length}.", nameof(pushConstants));
        var limits = Device.Info.Limits.MaxWorkGroupCount;
        if (groups.X == 0 || groups.Y == 0 || groups.Z == 0 || groups.X > limits[0] || groups.Y > limits[1] || groups.Z > limits[2])
            throw new ArgumentOutOfRangeException(nameof(groups), $"Kernel '{d.Shader}' dispatch {groups} is outside the device's limits [{string.Join(", ", limits)}].");

        Pipeline = pipeline;
        Groups = groups;
        PushConstants = pushConstants.ToArray();
        _buffers = buffers.ToArray();
        (Set, _pool) = Device.Descriptors.Allocate(pipeline.SetLayout);

        var infos = stackalloc DescriptorBufferInfo[_buffers.Length];
        var writes = stackalloc WriteDescriptorSet[_buffers.Length];
        for (int i = 0; i < _buffers.Length; i++)
        {
            infos[i] = new DescriptorBufferInfo(_buffers[i].CheckedHandle(), 0, Vk.WholeSize);
            writes[i] = new WriteDescriptorSet
            {
                SType = StructureType.WriteDescriptorSet, DstSet = Set, DstBinding = (uint)i, DescriptorCount = 1,
                DescriptorType = DescriptorType.StorageBuffer, PBufferInfo = &infos[i],
            };
        }
        Device.Vk.UpdateDescriptorSets(Device.Handle, (uint)_buffers.Length, writes, 0, null);
    }

    public ComputePipeline Pipeline { get; }
    public (uint X, uint Y, uint Z) Groups { get; }
    internal byte[] PushConstants { get; }
    internal DescriptorSet Set { get; }
    internal IReadOnlyList<GpuBuffer> Buffers => _buffers;
    internal override int DisposeOrder => 5;

    internal void EnsureUsable()
    {
        ThrowIfDisposed();
        foreach (var b in _buffers)
            if (b.IsDisposed) throw new ObjectDisposedException(nameof(GpuBuffer), $"Kernel '{Name}' uses buffer '{b.Name}', which has been disposed.");
    }

    protected override void Release() => Device.Descriptors.Free(Set, _pool);
}
