namespace VulkanCnn.Vulkan;

/// <summary>
/// Base of every GPU object a caller owns: registers with its device so that disposing the
/// device reports (and frees) whatever was left alive, and refuses use after disposal.
/// </summary>
public abstract class GpuResource : IDisposable
{
    private bool _disposed;

    protected GpuResource(GpuDevice device, string name)
    {
        device.ThrowIfDisposed();
        Device = device;
        Name = name;
        device.Track(this);
    }

    public GpuDevice Device { get; }
    public string Name { get; }
    public bool IsDisposed => _disposed;

    /// <summary>Leaked objects are freed in this order when the device goes: users before what they use.</summary>
    internal virtual int DisposeOrder => 10;

    protected void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(GetType().Name,
            $"{GetType().Name} '{Name}' has been disposed and can no longer be used.");
        Device.ThrowIfDisposed();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Device.Untrack(this);
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Destroys the Vulkan objects. Called once.</summary>
    protected abstract void Release();

    public override string ToString() => $"{GetType().Name} '{Name}'";
}
