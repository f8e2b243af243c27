using Silk.NET.Vulkan;

namespace VulkanCnn.Vulkan;

/// <summary>
/// One background thread per device that blocks in vkWaitForFences for every pending async
/// wait and completes their tasks. No thread-pool thread is ever blocked on the GPU (blocked
/// pool threads starve timers and continuations on a 2-core machine), and the CPU stays free.
/// </summary>
internal sealed unsafe class FenceWaiter : IDisposable
{
    private const ulong SliceNs = 2_000_000; // re-check new entries and deadlines every 2 ms

    private sealed record Entry(Fence Fence, string What, TaskCompletionSource Completion, DateTime? Deadline, TimeSpan? Timeout);

    private readonly GpuDevice _device;
    private readonly object _gate = new();
    private readonly List<Entry> _pending = new();
    private readonly HashSet<ulong> _inCall = new();
    private Thread? _thread;
    private bool _stopping;

    public FenceWaiter(GpuDevice device) => _device = device;

    public Task WaitAsync(Fence fence, string what, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entry = new Entry(fence, what, completion, timeout is { } t ? DateTime.UtcNow + t : null, timeout);
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() => completion.TrySetCanceled(cancellationToken));
            completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _pending.Add(entry);
            if (_thread is null)
            {
                _thread = new Thread(Loop) { IsBackground = true, Name = "vkcnn fence waiter" };
                _thread.Start();
            }
            Monitor.PulseAll(_gate);
        }
        return completion.Task;
    }

    /// <summary>Blocks until the waiter thread no longer uses <paramref name="fence"/>, so it may be reset.</summary>
    public void Release(Fence fence)
    {
        lock (_gate)
        {
            // Allocation-free: this runs on every synchronous submit.
            while (_inCall.Contains(fence.Handle)) Monitor.Wait(_gate);
            for (int i = _pending.Count - 1; i >= 0; i--)
            {
                var e = _pending[i];
                if (e.Fence.Handle != fence.Handle) continue;
                if (!e.Completion.Task.IsCompleted)
                    throw new InvalidOperationException($"{e.What} still has an async wait pending; await it before submitting again.");
                _pending.RemoveAt(i);
            }
        }
    }

    /// <summary>Drops every entry of a fence that is about to be destroyed (its waits fault); waits until the thread lets go of
    /// it.</summary>
    public void Forget(Fence fence)
    {
        lock (_gate)
        {
            if (_stopping) return;
            while (_inCall.Contains(fence.Handle)) Monitor.Wait(_gate);
            for (int i = _pending.Count - 1; i >= 0; i--)
            {
                if (_pending[i].Fence.Handle != fence.Handle) continue;
                _pending[i].Completion.TrySetException(new ObjectDisposedException(_pending[i].What,
                    "The recording was disposed while a wait was pending."));
                _pending.RemoveAt(i);
            }
        }
    }

    private void Loop()
    {
        var fences = new List<Fence>();
        while (true)
        {
            lock (_gate)
            {
                _pending.RemoveAll(e => e.Completion.Task.IsCompleted); // cancelled by their tokens
                while (_pending.Count == 0 && !_stopping) Monitor.Wait(_gate);
                if (_stopping) return;
                fences.Clear();
                foreach (var e in _pending) { fences.Add(e.Fence); _inCall.Add(e.Fence.Handle); }
            }
            var array = fences.ToArray();
            Result r;
            fixed (Fence* p = array) r = _device.Vk.WaitForFences(_device.Handle, (uint)array.Length, p, false, SliceNs);
            lock (_gate)
            {
                _inCall.Clear();
                var now = DateTime.UtcNow;
                for (int i = _pending.Count - 1; i >= 0; i--)
                {
                    var e = _pending[i];
                    if (e.Completion.Task.IsCompleted) { _pending.RemoveAt(i); continue; } // cancelled meanwhile
                    Exception? error = null;
                    bool done = false;
                    if (r is not (Result.Success or Result.Timeout)) { error = VkCheck.ToException(r, "vkWaitForFences"); }
                    else
                    {
                        var status = _device.Vk.GetFenceStatus(_device.Handle, e.Fence);
                        if (status == Result.Success) done = true;
                        else if (status != Result.NotReady) error = VkCheck.ToException(status, "vkGetFenceStatus");
                        else if (e.Deadline is { } d && now > d) error = new GpuTimeoutException(e.What, e.Timeout!.Value);
                    }
                    if (!done && error is null) continue;
                    _pending.RemoveAt(i);
                    if (error is null) e.Completion.TrySetResult(); else e.Completion.TrySetException(error);
                }
                Monitor.PulseAll(_gate);
            }
        }
    }

    public void Dispose()
    {
        Thread? thread;
        lock (_gate)
        {
            _stopping = true;
            foreach (var e in _pending) e.Completion.TrySetException(new ObjectDisposedException(nameof(GpuDevice),
                "The device was disposed while a wait was pending."));
            _pending.Clear();
            Monitor.PulseAll(_gate);
            thread = _thread;
        }
        thread?.Join();
    }
}
