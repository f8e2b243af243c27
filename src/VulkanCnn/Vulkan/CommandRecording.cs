using Silk.NET.Vulkan;
using System.Runtime.InteropServices;
using Semaphore = Silk.NET.Vulkan.Semaphore;

namespace VulkanCnn.Vulkan;

/// <summary>
/// One command buffer, recorded once and submitted many times, with its own fence. Barriers are
/// inserted automatically before a command that reads or writes what an earlier one wrote, or writes
/// what an earlier one read (byte ranges of buffers, from each kernel's SPIR-V binding access), so a
/// recording is correct by construction and independent commands may overlap; each submission starts with a barrier against earlier
/// submissions and ends
/// with one that makes results visible to the host. Not thread-safe: one thread records and
/// submits a given recording; different recordings may be used from different threads.
/// </summary>
public sealed unsafe class CommandRecording : GpuResource
{
    private readonly uint _maxTimestamps;
    private readonly CommandPool _pool;
    private readonly CommandBuffer _cb;
    private readonly Fence _fence;
    private readonly List<BoundKernel> _kernels = new();
    private readonly List<GpuBuffer> _copies = new();
    private readonly List<string> _labels = new();
    private readonly List<RecordedCommand> _commands = new();
    private QueryPool _queries;
    private readonly HazardTracker _hazards;
    private bool _finished, _submitted;

    /// <summary>A new recording; <paramref name="maxTimestamps"/> sizes the timestamp query pool (created on the first <see
    /// cref="Timestamp"/>).</summary>
    public CommandRecording(GpuDevice device, string name, int maxTimestamps = 256, BarrierPolicy barriers = BarrierPolicy.Hazards)
        : base(device, name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTimestamps, 1);
        _hazards = new HazardTracker(barriers);
        _maxTimestamps = (uint)maxTimestamps;
        var vk = device.Vk;
        var poolInfo = new CommandPoolCreateInfo
        {
            SType = StructureType.CommandPoolCreateInfo,
            QueueFamilyIndex = device.QueueFamilyIndex
        };
        CommandPool pool;
        vk.CreateCommandPool(device.Handle, &poolInfo, null, &pool).Check("vkCreateCommandPool");
        _pool = pool;
        var allocInfo = new CommandBufferAllocateInfo
        {
            SType = StructureType.CommandBufferAllocateInfo,
            CommandPool = pool,
            Level = CommandBufferLevel.Primary,
            CommandBufferCount = 1,
        };
        CommandBuffer cb;
        vk.AllocateCommandBuffers(device.Handle, &allocInfo, &cb).Check("vkAllocateCommandBuffers");
        _cb = cb;
        var fenceInfo = new FenceCreateInfo { SType = StructureType.FenceCreateInfo };
        Fence fence;
        vk.CreateFence(device.Handle, &fenceInfo, null, &fence).Check("vkCreateFence");
        _fence = fence;
        var begin = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo };
        vk.BeginCommandBuffer(cb, &begin).Check("vkBeginCommandBuffer");
        // Work from earlier submissions (uploads, other recordings) is visible to this one.
        MemoryBarrier(PipelineStageFlags.AllCommandsBit, AccessFlags.MemoryWriteBit,
            PipelineStageFlags.AllCommandsBit, AccessFlags.MemoryReadBit | AccessFlags.MemoryWriteBit);
    }

    public int DispatchCount { get; private set; }
    /// <summary>Barriers recorded between commands (not counting the ones that open and finish the recording).</summary>
    public int BarrierCount { get; private set; }
    public BarrierPolicy Barriers => _hazards.Policy;

    /// <summary>What was recorded, in order (barriers and timestamps left out): lets a host prove, for
    /// example, that a display frame never copies device data back to the host.</summary>
    public IReadOnlyList<RecordedCommand> Commands => _commands;

    /// <summary>Insert the barriers <see cref="Barriers"/> calls for (default). Off only for tests that prove validation
    /// sees hazards.</summary>
    internal bool AutomaticBarriers { get; init; } = true;
    public bool IsFinished => _finished;
    internal override int DisposeOrder => 0;

    /// <summary>Records one dispatch of a bound kernel.</summary>
    public void Dispatch(BoundKernel kernel)
    {
        EnsureRecording();
        kernel.EnsureUsable();
        if (kernel.Device != Device) throw new ArgumentException($"Kernel '{kernel.Name}' belongs to another device.", nameof(kernel));
        BarrierIfNeeded(kernel.Touches);
        var vk = Device.Vk;
        var set = kernel.Set;
        vk.CmdBindPipeline(_cb, PipelineBindPoint.Compute, kernel.Pipeline.Handle);
        vk.CmdBindDescriptorSets(_cb, PipelineBindPoint.Compute, kernel.Pipeline.Layout, 0, 1, &set, 0, null);
        if (kernel.PushConstants.Length > 0)
            fixed (byte* p = kernel.PushConstants)
                vk.CmdPushConstants(_cb, kernel.Pipeline.Layout, ShaderStageFlags.ComputeBit, 0, (uint)kernel.PushConstants.Length, p);
        vk.CmdDispatch(_cb, kernel.Groups.X, kernel.Groups.Y, kernel.Groups.Z);
        _kernels.Add(kernel);
        _commands.Add(new RecordedCommand(RecordedCommandKind.Dispatch, kernel.Name, false));
        DispatchCount++;
    }

    /// <summary>Records a copy of <paramref name="bytes"/> (default: all of the smaller buffer).</summary>
    public void CopyBuffer(GpuBuffer source, GpuBuffer destination, ulong? bytes = null, ulong sourceOffset = 0,
        ulong destinationOffset = 0)
    {
        EnsureRecording();
        ulong size = bytes ?? Math.Min(source.Size, destination.Size);
        if (sourceOffset + size > source.Size || destinationOffset + size > destination.Size)
            throw new ArgumentOutOfRangeException(nameof(bytes),
                $"Copy of {size} bytes from '{source.Name}' ({source.Size}) at {sourceOffset} to '{destination.Name}' " +
                    $"({destination.Size}) at {destinationOffset} is out of range.");
        BarrierIfNeeded([new BufferTouch(source, sourceOffset, sourceOffset + size, false),
            new BufferTouch(destination, destinationOffset, destinationOffset + size, true)]);
        var region = new BufferCopy(sourceOffset, destinationOffset, size);
        Device.Vk.CmdCopyBuffer(_cb, source.CheckedHandle(), destination.CheckedHandle(), 1, &region);
        _copies.Add(source);
        _copies.Add(destination);
        _commands.Add(new RecordedCommand(RecordedCommandKind.CopyBuffer, $"{source.Name} -> {destination.Name}", destination.IsStaging));
    }

    /// <summary>
    /// Records a copy of packed 32-bit pixels (<paramref name="width"/>·<paramref name="height"/> words, in the
    /// image's format) from <paramref name="source"/> into a swapchain image, which ends in the present layout.
    /// The image's previous contents are discarded.
    /// </summary>
    public void CopyToPresentableImage(GpuBuffer source, nint image, uint width, uint height, string imageName = "swapchain image")
    {
        EnsureRecording();
        if (image == 0) throw new ArgumentException("The image handle is null.", nameof(image));
        if ((ulong)width * height * 4 > source.Size)
            throw new ArgumentOutOfRangeException(nameof(width),
                $"A {width}x{height} image needs {(ulong)width * height * 4} bytes; '{source.Name}' holds {source.Size}.");
        BarrierIfNeeded([new BufferTouch(source, 0, (ulong)width * height * 4, false)]);
        var vk = Device.Vk;
        var target = new Image((ulong)image);
        var range = new ImageSubresourceRange(ImageAspectFlags.ColorBit, 0, 1, 0, 1);
        var toTransfer = new ImageMemoryBarrier
        {
            SType = StructureType.ImageMemoryBarrier,
            SrcAccessMask = 0,
            DstAccessMask = AccessFlags.TransferWriteBit,
            OldLayout = ImageLayout.Undefined,
            NewLayout = ImageLayout.TransferDstOptimal,
            SrcQueueFamilyIndex = Vk.QueueFamilyIgnored,
            DstQueueFamilyIndex = Vk.QueueFamilyIgnored,
            Image = target,
            SubresourceRange = range,
        };
        // Source stage transfer: the acquire semaphore's wait must cover it (Submit waits at all commands).
        vk.CmdPipelineBarrier(_cb, PipelineStageFlags.TransferBit, PipelineStageFlags.TransferBit, 0, 0, null, 0, null, 1, &toTransfer);
        var region = new BufferImageCopy
        {
            BufferOffset = 0,
            BufferRowLength = 0,
            BufferImageHeight = 0,
            ImageSubresource = new ImageSubresourceLayers(ImageAspectFlags.ColorBit, 0, 0, 1),
            ImageOffset = new Offset3D(0, 0, 0),
            ImageExtent = new Extent3D(width, height, 1),
        };
        vk.CmdCopyBufferToImage(_cb, source.CheckedHandle(), target, ImageLayout.TransferDstOptimal, 1, &region);
        var toPresent = toTransfer with
        {
            SrcAccessMask = AccessFlags.TransferWriteBit,
            DstAccessMask = 0,
            OldLayout = ImageLayout.TransferDstOptimal,
            NewLayout = ImageLayout.PresentSrcKhr,
        };
        vk.CmdPipelineBarrier(_cb, PipelineStageFlags.TransferBit, PipelineStageFlags.BottomOfPipeBit, 0, 0, null, 0, null, 1, &toPresent);
        _copies.Add(source);
        _commands.Add(new RecordedCommand(RecordedCommandKind.CopyToImage, $"{source.Name} -> {imageName}", false));
    }

    /// <summary>Records filling a tensor's bytes with a 32-bit pattern (0 = zeros), e.g. clearing gradients.</summary>
    public void Fill(Tensor tensor, uint value = 0)
    {
        EnsureRecording();
        BarrierIfNeeded([new BufferTouch(tensor.Buffer, tensor.ByteOffset, tensor.ByteOffset + tensor.SizeInBytes, true)]);
        Device.Vk.CmdFillBuffer(_cb, tensor.Buffer.CheckedHandle(), tensor.ByteOffset, tensor.SizeInBytes, value);
        _copies.Add(tensor.Buffer);
        _commands.Add(new RecordedCommand(RecordedCommandKind.Fill, tensor.Name, false));
    }

    /// <summary>Writes a GPU timestamp once all earlier commands have finished.</summary>
    public void Timestamp(string label)
    {
        EnsureRecording();
        var family = Device.Info.QueueFamilies[(int)Device.QueueFamilyIndex];
        if (family.TimestampValidBits == 0)
            throw new NotSupportedException($"Device '{Device.Info.Name}' has no timestamps on its compute queue.");
        if (_labels.Count >= _maxTimestamps) throw new InvalidOperationException($"Recording '{Name}' holds at most {_maxTimestamps} " +
            $"timestamps.");
        if (_queries.Handle == 0)
        {
            var info = new QueryPoolCreateInfo
            {
                SType = StructureType.QueryPoolCreateInfo,
                QueryType = QueryType.Timestamp,
                QueryCount = _maxTimestamps
            };
            QueryPool pool;
            Device.Vk.CreateQueryPool(Device.Handle, &info, null, &pool).Check("vkCreateQueryPool");
            _queries = pool;
            Device.Vk.CmdResetQueryPool(_cb, pool, 0, _maxTimestamps);
        }
        Device.Vk.CmdWriteTimestamp(_cb, PipelineStageFlags.BottomOfPipeBit, _queries, (uint)_labels.Count);
        _labels.Add(label);
    }

    /// <summary>Ends recording; afterwards the recording can be submitted any number of times.</summary>
    public void Finish()
    {
        EnsureRecording();
        MemoryBarrier(PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit,
            AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit,
            PipelineStageFlags.HostBit, AccessFlags.HostReadBit);
        Device.Vk.EndCommandBuffer(_cb).Check("vkEndCommandBuffer");
        _finished = true;
    }

    /// <summary>Submits the recording. Use <see cref="Wait"/> or <see cref="WaitAsync"/> before reading results.</summary>
    public void Submit() => Submit(default, default);

    /// <summary>Submits waiting on <paramref name="waitSemaphores"/> and signalling <paramref name="signalSemaphores"/>
    /// (binary VkSemaphore handles owned by the caller); the recording's fence is signalled too.</summary>
    public void Submit(ReadOnlySpan<nint> waitSemaphores, ReadOnlySpan<nint> signalSemaphores)
    {
        ThrowIfDisposed();
        if (!_finished) throw new InvalidOperationException($"Recording '{Name}' must be finished before it is submitted.");
        if (_submitted
            && !IsComplete) throw new InvalidOperationException($"Recording '{Name}' is still executing; wait for it before submitting " +
                $"it again.");
        foreach (var k in _kernels) k.EnsureUsable();
        foreach (var b in _copies) b.CheckedHandle();
        var fence = _fence;
        Device.FenceWaiter.Release(fence);
        Device.Vk.ResetFences(Device.Handle, 1, &fence).Check("vkResetFences");
        _submitted = false;
        Device.Submit(_cb, _fence, MemoryMarshal.Cast<nint, Semaphore>(waitSemaphores), MemoryMarshal.Cast<nint,
            Semaphore>(signalSemaphores));
        _submitted = true;
    }

    /// <summary>True once the last submission has finished (or when never submitted).</summary>
    public bool IsComplete
    {
        get
        {
            if (!_submitted) return true;
            var r = Device.Vk.GetFenceStatus(Device.Handle, _fence);
            if (r == Result.NotReady) return false;
            r.Check("vkGetFenceStatus");
            return true;
        }
    }

    /// <summary>Blocks until the last submission finishes; throws <see cref="GpuTimeoutException"/> after <paramref
    /// name="timeout"/>.</summary>
    public void Wait(TimeSpan? timeout = null)
    {
        ThrowIfDisposed();
        if (!_submitted) return;
        var fence = _fence;
        ulong ns = timeout is { } t ? (ulong)Math.Max(0, t.Ticks) * 100 : ulong.MaxValue;
        var r = Device.Vk.WaitForFences(Device.Handle, 1, &fence, true, ns);
        if (r == Result.Timeout) throw new GpuTimeoutException($"Recording '{Name}'", timeout!.Value);
        r.Check("vkWaitForFences");
    }

    /// <summary>Completes when the last submission finishes, without blocking any thread-pool thread.
    /// Cancelling stops the wait, not the GPU work.</summary>
    public Task WaitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        if (IsComplete) return Task.CompletedTask;
        return Device.FenceWaiter.WaitAsync(_fence, $"Recording '{Name}'", timeout, cancellationToken);
    }

    public void Run(TimeSpan? timeout = null)
    {
        Submit();
        Wait(timeout);
    }

    public Task RunAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        Submit();
        return WaitAsync(timeout, cancellationToken);
    }

    /// <summary>Timestamps of the last completed submission, in milliseconds since the first timestamp.</summary>
    public IReadOnlyList<TimestampSample> ReadTimestamps()
    {
        ThrowIfDisposed();
        if (_labels.Count == 0) return [];
        if (!_submitted
            || !IsComplete) throw new InvalidOperationException($"Recording '{Name}' has no completed submission to read timestamps from.");
        var ticks = new ulong[_labels.Count];
        fixed (ulong* p = ticks)
            Device.Vk.GetQueryPoolResults(Device.Handle, _queries, 0, (uint)ticks.Length, (nuint)(ticks.Length * 8), p, 8,
                QueryResultFlags.Result64Bit | QueryResultFlags.ResultWaitBit).Check("vkGetQueryPoolResults");
        uint bits = Device.Info.QueueFamilies[(int)Device.QueueFamilyIndex].TimestampValidBits;
        ulong mask = bits >= 64 ? ulong.MaxValue : (1UL << (int)bits) - 1;
        double period = Device.Info.Limits.TimestampPeriodNs;
        var result = new TimestampSample[ticks.Length];
        for (int i = 0; i < ticks.Length; i++)
            result[i] = new TimestampSample(_labels[i], ((ticks[i] - ticks[0]) & mask) * period / 1e6);
        return result;
    }

    private void EnsureRecording()
    {
        ThrowIfDisposed();
        if (_finished) throw new InvalidOperationException($"Recording '{Name}' is finished; record a new one to add commands.");
    }

    /// <summary>Records a barrier when the next command's <paramref name="touches"/> conflict with what is pending, then adds
    /// them.</summary>
    private void BarrierIfNeeded(ReadOnlySpan<BufferTouch> touches)
    {
        bool needed = AutomaticBarriers && _hazards.NeedsBarrier(touches);
        if (needed)
        {
            FullBarrier();
            _hazards.Clear();
        }
        _hazards.Add(touches);
    }

    private void FullBarrier()
    {
        BarrierCount++;
        MemoryBarrier(PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit,
            AccessFlags.ShaderWriteBit | AccessFlags.TransferWriteBit,
            PipelineStageFlags.ComputeShaderBit | PipelineStageFlags.TransferBit,
            AccessFlags.ShaderReadBit | AccessFlags.ShaderWriteBit | AccessFlags.TransferReadBit | AccessFlags.TransferWriteBit);
    }

    private void MemoryBarrier(PipelineStageFlags srcStage, AccessFlags srcAccess, PipelineStageFlags dstStage, AccessFlags dstAccess)
    {
        var barrier = new MemoryBarrier { SType = StructureType.MemoryBarrier, SrcAccessMask = srcAccess, DstAccessMask = dstAccess };
        Device.Vk.CmdPipelineBarrier(_cb, srcStage, dstStage, 0, 1, &barrier, 0, null, 0, null);
    }

    protected override void Release()
    {
        var vk = Device.Vk;
        if (_submitted)
        {
            var fence = _fence;
            var r = vk.WaitForFences(Device.Handle, 1, &fence, true, 30_000_000_000UL);
            if (r != Result.Success) Device.Log($"[vkcnn] recording '{Name}' disposed while its GPU work did not finish ({r}).");
        }
        if (_queries.Handle != 0) vk.DestroyQueryPool(Device.Handle, _queries, null);
        Device.FenceWaiter.Forget(_fence);
        vk.DestroyFence(Device.Handle, _fence, null);
        vk.DestroyCommandPool(Device.Handle, _pool, null);
    }
}

public enum RecordedCommandKind { Dispatch, CopyBuffer, CopyToImage, Fill }

/// <summary>One command of a <see cref="CommandRecording"/>: what it is, what it touches, and whether it moves
/// device data to the host (a copy into a staging buffer).</summary>
public readonly record struct RecordedCommand(RecordedCommandKind Kind, string Name, bool DeviceToHost);
