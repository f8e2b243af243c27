using Silk.NET.Vulkan;

namespace VulkanCnn.Vulkan;

/// <summary>
/// A pipeline with its buffers, push constants and workgroup counts fixed: everything one
/// dispatch needs. The descriptor set is allocated and written once here, so recording and
/// replaying allocate nothing.
/// </summary>
public sealed unsafe class BoundKernel : GpuResource
{
    private DescriptorPool _pool;
    private GpuBuffer[] _buffers = [];

    /// <summary>Binds whole buffers.</summary>
    public BoundKernel(ComputePipeline pipeline, IReadOnlyList<GpuBuffer> buffers, (uint X, uint Y, uint Z) groups,
        ReadOnlySpan<byte> pushConstants, string? name = null)
        : this(pipeline, buffers.Select(b => new BufferRange(b, 0, b.Size)).ToList(), groups, pushConstants, name) { }

    /// <summary>Binds ranges of buffers (tensors packed into one arena).</summary>
    public BoundKernel(ComputePipeline pipeline, IReadOnlyList<BufferRange> ranges, (uint X, uint Y, uint Z) groups,
        ReadOnlySpan<byte> pushConstants, string? name = null)
        : base(ranges.Count > 0 ? ranges[0].Buffer.Device
            : throw new ArgumentException("A kernel needs at least one buffer.", nameof(ranges)),
               name ?? pipeline.Description.Shader)
    {
        try { Initialize(pipeline, ranges, groups, pushConstants); }
        catch
        {
            Dispose(); // tracked by the base constructor: untrack, free what was allocated
            throw;
        }
    }

    private void Initialize(ComputePipeline pipeline, IReadOnlyList<BufferRange> ranges, (uint X, uint Y, uint Z) groups,
        ReadOnlySpan<byte> pushConstants)
    {
        var buffers = ranges.Select(r => r.Buffer).ToList();
        var d = pipeline.Description;
        if (buffers.Count != d.BufferCount)
            throw new ArgumentException($"Kernel '{d.Shader}' takes {d.BufferCount} buffers, got {buffers.Count}.", nameof(ranges));
        if (pushConstants.Length != d.PushConstantBytes)
            throw new ArgumentException($"Kernel '{d.Shader}' takes {d.PushConstantBytes} push-constant bytes, got {pushConstants.Length}.",
                nameof(pushConstants));
        var limits = Device.Info.Limits.MaxWorkGroupCount;
        if (groups.X == 0 || groups.Y == 0 || groups.Z == 0 || groups.X > limits[0] || groups.Y > limits[1] || groups.Z > limits[2])
            throw new ArgumentOutOfRangeException(nameof(groups),
                $"Kernel '{d.Shader}' dispatch {groups} is outside the device's limits [{string.Join(", ", limits)}].");

        Pipeline = pipeline;
        Groups = groups;
        PushConstants = pushConstants.ToArray();
        _buffers = buffers.ToArray();
        (Set, _pool) = Device.Descriptors.Allocate(pipeline.SetLayout);

        ulong alignment = Math.Max(1, Device.Info.Limits.MinStorageBufferOffsetAlignment);
        var touches = new List<BufferTouch>(_buffers.Length);
        var infos = stackalloc DescriptorBufferInfo[_buffers.Length];
        var writes = stackalloc WriteDescriptorSet[_buffers.Length];
        for (int i = 0; i < _buffers.Length; i++)
        {
            var r = ranges[i];
            if (r.Offset % alignment != 0)
                throw new ArgumentException($"Kernel '{d.Shader}' binding {i} starts at byte {r.Offset} of '{r.Buffer.Name}', not a " +
                    $"multiple of minStorageBufferOffsetAlignment ({alignment}).", nameof(ranges));
            if (r.Size > Device.Info.Limits.MaxStorageBufferRange)
                throw new TensorTooLargeException($"{d.Shader} binding {i}", r.Size, Device.Info.Limits.MaxStorageBufferRange,
                    Device.Info.Name);
            if (r.Offset + r.Size > r.Buffer.Size)
                throw new ArgumentOutOfRangeException(nameof(ranges),
                    $"Kernel '{d.Shader}' binding {i} [{r.Offset}, {r.Offset + r.Size}) is outside '{r.Buffer.Name}' ({r.Buffer.Size} " +
                        $"bytes).");
            // Round the range up to 16 bytes (within the buffer) so vec4 views of a ragged tensor stay in range.
            ulong size = Math.Min((r.Size + 15) / 16 * 16, r.Buffer.Size - r.Offset);
            infos[i] = new DescriptorBufferInfo(r.Buffer.CheckedHandle(), r.Offset, size);
            if (pipeline.Access[i] != BufferAccess.None)
                touches.Add(new BufferTouch(r.Buffer, r.Offset, r.Offset + size, pipeline.Access[i].HasFlag(BufferAccess.Write)));
            writes[i] = new WriteDescriptorSet
            {
                SType = StructureType.WriteDescriptorSet,
                DstSet = Set,
                DstBinding = (uint)i,
                DescriptorCount = 1,
                DescriptorType = DescriptorType.StorageBuffer,
                PBufferInfo = &infos[i],
            };
        }
        Device.Vk.UpdateDescriptorSets(Device.Handle, (uint)_buffers.Length, writes, 0, null);
        Touches = touches.ToArray();
    }

    public ComputePipeline Pipeline { get; private set; } = null!;
    public (uint X, uint Y, uint Z) Groups { get; private set; }
    internal byte[] PushConstants { get; private set; } = [];
    internal DescriptorSet Set { get; private set; }
    internal IReadOnlyList<GpuBuffer> Buffers => _buffers;
    /// <summary>What one dispatch reads and writes: each used binding's bytes as bound (descriptor ranges rounded up) and
    /// whether the shader may write them (<see cref="ComputePipeline.Access"/>); recordings place barriers from these.</summary>
    internal BufferTouch[] Touches { get; private set; } = [];
    internal override int DisposeOrder => 5;

    internal void EnsureUsable()
    {
        ThrowIfDisposed();
        foreach (var b in _buffers)
            if (b.IsDisposed) throw new ObjectDisposedException(nameof(GpuBuffer),
                $"Kernel '{Name}' uses buffer '{b.Name}', which has been disposed.");
    }

    protected override void Release()
    {
        if (Set.Handle != 0) Device.Descriptors.Free(Set, _pool);
    }
}

/// <summary>Bytes [Offset, Offset + Size) of a buffer, as one kernel binding sees them.</summary>
public readonly record struct BufferRange(GpuBuffer Buffer, ulong Offset, ulong Size);
