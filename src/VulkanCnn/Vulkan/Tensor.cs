namespace VulkanCnn.Vulkan;

/// <summary>
/// A dense tensor that owns its GPU buffer. Uploads and downloads go straight through mapped
/// memory when the device has host-visible device-local memory, and through a staging buffer
/// otherwise. Not safe for concurrent use from several threads.
/// </summary>
public sealed class Tensor : GpuResource
{
    private readonly bool _ownsBuffer;

    private Tensor(GpuDevice device, TensorShape shape, DataType type, string name, GpuBuffer buffer, bool ownsBuffer, ulong byteOffset = 0)
        : base(device, name)
    {
        Shape = shape;
        DataType = type;
        Buffer = buffer;
        ByteOffset = byteOffset;
        _ownsBuffer = ownsBuffer;
        SizeInBytes = checked((ulong)shape.ElementCount * (ulong)type.SizeInBytes());
    }

    /// <summary>Allocates an uninitialised tensor.</summary>
    public static Tensor Create(GpuDevice device, TensorShape shape, string? name = null, DataType dataType = DataType.Float32)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(shape);
        name ??= "tensor" + shape;
        if (shape.IsEmpty) throw new ArgumentException($"Tensor '{name}' of shape {shape} is empty; an empty tensor has no GPU buffer.",
            nameof(shape));
        ulong bytes = checked((ulong)shape.ElementCount * (ulong)dataType.SizeInBytes());
        var buffer = GpuBuffer.Create(device, bytes, MemoryUsage.Tensor, name);
        try { return new Tensor(device, shape, dataType, name, buffer, ownsBuffer: true); }
        catch { buffer.Dispose(); throw; }
    }

    /// <summary>
    /// A tensor over the start of someone else's buffer (a memory-planner slot, a zero-copy
    /// Reshape). Disposing the view leaves the buffer alone.
    /// </summary>
    public static Tensor View(GpuBuffer buffer, TensorShape shape, string? name = null, DataType dataType = DataType.Float32,
        ulong byteOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ulong bytes = checked((ulong)shape.ElementCount * (ulong)dataType.SizeInBytes());
        if (byteOffset + bytes > buffer.Size)
            throw new ArgumentException($"A view of shape {shape} at byte {byteOffset} needs {bytes} bytes; buffer '{buffer.Name}' has " +
                $"{buffer.Size}.", nameof(shape));
        return new Tensor(buffer.Device, shape, dataType, name ?? buffer.Name + shape, buffer, ownsBuffer: false, byteOffset);
    }

    /// <summary>The same memory as <paramref name="source"/> with another shape (Reshape, Flatten …).</summary>
    public static Tensor View(Tensor source, TensorShape shape, string? name = null) =>
        View(source.Buffer, shape, name, source.DataType, source.ByteOffset);

    /// <summary>Allocates a tensor and uploads <paramref name="data"/> into it.</summary>
    public static Tensor FromData(GpuDevice device, TensorShape shape, ReadOnlySpan<float> data, string? name = null) =>
        FromData(device, shape, data, name, DataType.Float32);

    /// <summary>Allocates a tensor of <paramref name="dataType"/> and uploads <paramref name="data"/> into it, converted.</summary>
    internal static Tensor FromData(GpuDevice device, TensorShape shape, ReadOnlySpan<float> data, string? name, DataType dataType)
    {
        var t = Create(device, shape, name, dataType);
        try { t.Upload(data); return t; }
        catch { t.Dispose(); throw; }
    }

    public TensorShape Shape { get; }
    public DataType DataType { get; }
    public long ElementCount => Shape.ElementCount;
    public ulong SizeInBytes { get; }
    /// <summary>Where the tensor starts in <see cref="Buffer"/> (non-zero for tensors packed into a session's arena).</summary>
    public ulong ByteOffset { get; }
    /// <summary>The bytes a kernel binds for this tensor.</summary>
    public BufferRange Range => new(Buffer, ByteOffset, SizeInBytes);
    /// <summary>The storage buffer, for binding the tensor to custom kernels (<see cref="BoundKernel"/>).</summary>
    public GpuBuffer Buffer { get; }
    internal override int DisposeOrder => 20;

    /// <summary>Copies <paramref name="data"/> (exactly <see cref="ElementCount"/> values) to the GPU and waits; a Float16 tensor
    /// stores them rounded to half.</summary>
    public void Upload(ReadOnlySpan<float> data)
    {
        CheckLength(data.Length, nameof(data));
        var bytes = DataType.Encode(data);
        if (Buffer.IsHostVisible) { bytes.CopyTo(Buffer.MappedBytes.Slice((int)ByteOffset, bytes.Length)); return; }
        using var staging = GpuBuffer.Create(Device, SizeInBytes, MemoryUsage.Staging, Name + ".upload");
        bytes.CopyTo(staging.MappedBytes);
        using var rec = Copy(staging, Buffer, "upload " + Name);
        rec.Run();
    }

    /// <summary>Copies the tensor into <paramref name="destination"/> (exactly <see cref="ElementCount"/> values), waiting for the
    /// GPU.</summary>
    public void Download(Span<float> destination)
    {
        CheckLength(destination.Length, nameof(destination));
        if (Buffer.IsHostVisible) { DataType.Decode(Buffer.MappedBytes.Slice((int)ByteOffset, (int)SizeInBytes), destination); return; }
        using var staging = GpuBuffer.Create(Device, SizeInBytes, MemoryUsage.Staging, Name + ".download");
        using (var rec = Copy(Buffer, staging, "download " + Name)) rec.Run();
        DataType.Decode(staging.MappedBytes, destination);
    }

    public float[] ToArray()
    {
        var result = new float[ElementCount];
        Download(result);
        return result;
    }

    /// <summary>Uploads without blocking the caller while the GPU copies (staging path); cancellable while waiting.</summary>
    public async Task UploadAsync(ReadOnlyMemory<float> data, CancellationToken cancellationToken = default)
    {
        CheckLength(data.Length, nameof(data));
        if (Buffer.IsHostVisible) { Upload(data.Span); return; }
        using var staging = GpuBuffer.Create(Device, SizeInBytes, MemoryUsage.Staging, Name + ".upload");
        DataType.Encode(data.Span).CopyTo(staging.MappedBytes);
        using var rec = Copy(staging, Buffer, "upload " + Name);
        await rec.RunAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Downloads without blocking the caller while the GPU copies (staging path); cancellable while waiting.</summary>
    public async Task DownloadAsync(Memory<float> destination, CancellationToken cancellationToken = default)
    {
        CheckLength(destination.Length, nameof(destination));
        if (Buffer.IsHostVisible) { Download(destination.Span); return; }
        using var staging = GpuBuffer.Create(Device, SizeInBytes, MemoryUsage.Staging, Name + ".download");
        using (var rec = Copy(Buffer, staging, "download " + Name))
            await rec.RunAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        DataType.Decode(staging.MappedBytes, destination.Span);
    }

    /// <summary>A finished recording of one copy between this tensor's range and a staging buffer.</summary>
    internal CommandRecording Copy(GpuBuffer from, GpuBuffer to, string what)
    {
        var rec = new CommandRecording(Device, what);
        try
        {
            rec.CopyBuffer(from, to, SizeInBytes, from == Buffer ? ByteOffset : 0, to == Buffer ? ByteOffset : 0);
            rec.Finish();
            return rec;
        }
        catch { rec.Dispose(); throw; }
    }

    private void CheckLength(int length, string parameter)
    {
        ThrowIfDisposed();
        if (length != ElementCount)
            throw new ArgumentException($"Tensor '{Name}' of shape {Shape} holds {ElementCount} values but '{parameter}' has {length}.",
                parameter);
    }

    protected override void Release()
    {
        if (_ownsBuffer) Buffer.Dispose();
    }

    public override string ToString() => $"Tensor '{Name}' {Shape} {DataType}";
}
