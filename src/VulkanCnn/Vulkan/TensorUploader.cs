
namespace VulkanCnn.Vulkan;

/// <summary>
/// Repeated host-to-device uploads into one tensor (a video frame, an overlay) without per-upload
/// allocations. Where the tensor's memory is mapped, <see cref="Bytes"/> is that memory and
/// <see cref="Commit"/> does nothing; elsewhere (discrete GPUs) <see cref="Bytes"/> is a staging buffer
/// kept for the uploader's life and <see cref="Commit"/> runs a copy recorded once: one submission and
/// wait, where <see cref="Tensor.Upload"/> also creates a staging buffer and a command buffer each time.
/// Write <see cref="Bytes"/> and commit only while no GPU work reading the tensor is in flight.
/// </summary>
public sealed class TensorUploader : IDisposable
{
    private readonly Tensor _target;
    private readonly GpuBuffer? _staging;
    private readonly CommandRecording? _copy;

    public TensorUploader(Tensor target)
    {
        ArgumentNullException.ThrowIfNull(target);
        _target = target;
        if (target.Buffer.IsHostVisible) return;
        _staging = GpuBuffer.Create(target.Device, target.SizeInBytes, MemoryUsage.Staging, target.Name + ".uploader");
        try { _copy = target.Copy(_staging, target.Buffer, "upload " + target.Name); }
        catch
        {
            _staging.Dispose();
            throw;
        }
    }

    /// <summary>True when uploads go through a staging buffer and a submitted copy.</summary>
    public bool UsesStaging => _staging is not null;

    /// <summary>The tensor's <see cref="Tensor.SizeInBytes"/> bytes as the next upload: write them, then <see cref="Commit"/>.</summary>
    public Span<byte> Bytes => _staging is { } s
        ? s.MappedBytes[..checked((int)_target.SizeInBytes)]
        : _target.Buffer.MappedBytes.Slice(checked((int)_target.ByteOffset), checked((int)_target.SizeInBytes));

    /// <summary>Makes what was written to <see cref="Bytes"/> the tensor's contents (waits for the copy on the staging path).</summary>
    public void Commit() => _copy?.Run();

    /// <summary>Copies <paramref name="data"/> (at most <see cref="Tensor.SizeInBytes"/> bytes, the rest left as it was) and
    /// commits.</summary>
    public void Upload(ReadOnlySpan<byte> data)
    {
        var bytes = Bytes;
        if (data.Length > bytes.Length)
            throw new ArgumentException($"Tensor '{_target.Name}' holds {bytes.Length} bytes; got {data.Length}.", nameof(data));
        data.CopyTo(bytes);
        Commit();
    }

    public void Dispose()
    {
        _copy?.Dispose();
        _staging?.Dispose();
    }
}
