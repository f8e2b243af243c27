namespace VulkanCnn.Vulkan;

/// <summary>Where a <see cref="CommandRecording"/> puts its barriers.</summary>
public enum BarrierPolicy
{
    /// <summary>Only before a command that reads or writes bytes an earlier command since the last barrier wrote, or writes
    /// bytes one read (read-after-write, write-after-write, write-after-read): independent branches overlap. The default.</summary>
    Hazards,
    /// <summary>Before every command but the first: commands never overlap (the baseline the benchmarks compare with).</summary>
    EveryCommand,
}

/// <summary>Bytes [Start, End) of a buffer that one command reads or writes.</summary>
internal readonly record struct BufferTouch(GpuBuffer Buffer, ulong Start, ulong End, bool Write);

/// <summary>
/// The accesses recorded since the last barrier, and whether the next command conflicts with them. A barrier
/// (all compute and transfer work before it, all after it) clears the list: after it nothing is pending.
/// </summary>
internal sealed class HazardTracker(BarrierPolicy policy)
{
    private readonly List<BufferTouch> _pending = new();

    public BarrierPolicy Policy { get; } = policy;

    /// <summary>True when a barrier must come before a command that makes <paramref name="touches"/>.</summary>
    public bool NeedsBarrier(ReadOnlySpan<BufferTouch> touches)
    {
        if (Policy == BarrierPolicy.EveryCommand) return _pending.Count > 0;
        // Compared by VkBuffer handle: two wrappers of one external buffer are the same memory.
        foreach (var t in touches)
            foreach (var p in _pending)
                if ((t.Write || p.Write) && p.Buffer.Handle.Handle == t.Buffer.Handle.Handle && t.Start < p.End && p.Start < t.End)
                    return true;
        return false;
    }

    public void Add(ReadOnlySpan<BufferTouch> touches)
    {
        foreach (var t in touches)
            if (t.End > t.Start) _pending.Add(t);
    }

    public void Clear() => _pending.Clear();
}
