namespace VulkanCnn.Compiler;

/// <summary>
/// Where every value lives. Intermediates are packed into one arena at byte offsets: two values
/// share bytes only if their lifetimes do not overlap. Graph inputs and outputs (and values
/// viewing them) get dedicated buffers. Views (Reshape …) share their source's bytes and extend
/// its lifetime.
/// </summary>
internal sealed class MemoryPlan
{
    internal MemoryPlan(IReadOnlyDictionary<string, string> rootOf, IReadOnlyDictionary<string, ulong> offsetOf,
        IReadOnlySet<string> dedicated,
        IReadOnlyDictionary<string, ulong> rootBytes, ulong arenaBytes, ulong naiveBytes, IReadOnlyDictionary<string,
            (int First, int Last)> lifetimes)
    {
        RootOf = rootOf; OffsetOf = offsetOf; DedicatedRoots = dedicated; RootBytes = rootBytes;
        ArenaBytes = arenaBytes; NaiveIntermediateBytes = naiveBytes; Lifetimes = lifetimes;
    }

    /// <summary>Value → the value that owns its bytes (itself unless it is a view).</summary>
    public IReadOnlyDictionary<string, string> RootOf { get; }
    /// <summary>Byte offset of each value inside its root's bytes (0 but for batch pieces, <see cref="Ops.IPlacedView"/>).</summary>
    public IReadOnlyDictionary<string, ulong> OffsetInRoot { get; init; } = new Dictionary<string, ulong>();
    /// <summary>Arena byte offset of each value that lives in the arena.</summary>
    public IReadOnlyDictionary<string, ulong> OffsetOf { get; }
    /// <summary>Roots with a buffer of their own (graph inputs and outputs).</summary>
    public IReadOnlySet<string> DedicatedRoots { get; }
    /// <summary>Bytes reserved for each root (aligned).</summary>
    public IReadOnlyDictionary<string, ulong> RootBytes { get; }
    /// <summary>Step range during which a value's bytes must stay intact (defining step … last reading step).</summary>
    public IReadOnlyDictionary<string, (int First, int Last)> Lifetimes { get; }
    public ulong ArenaBytes { get; }

    /// <summary>Bytes holding intermediates: the arena.</summary>
    public ulong PeakIntermediateBytes => ArenaBytes;
    /// <summary>What one buffer per intermediate value would take.</summary>
    public ulong NaiveIntermediateBytes { get; }
}

internal static class MemoryPlanner
{
    /// <param name="steps">Per step: the values it reads and the values it writes, in execution order.</param>
    /// <param name="viewOf">Value → the value whose bytes it views (zero-copy ops).</param>
    /// <param name="bytes">Size of every value.</param>
    /// <param name="pinned">Values that need a dedicated buffer (graph inputs and outputs).</param>
    /// <param name="alignment">Offset alignment (minStorageBufferOffsetAlignment, at least 16).</param>
    /// <param name="viewOffset">Byte offset of a view inside the value it views, where not 0 (batch pieces).</param>
    public static MemoryPlan Plan(IReadOnlyList<(IReadOnlyList<string> Reads, IReadOnlyList<string> Writes)> steps,
        IReadOnlyDictionary<string, string> viewOf, IReadOnlyDictionary<string, ulong> bytes, IReadOnlySet<string> pinned,
            ulong alignment = 16, IReadOnlyDictionary<string, ulong>? viewOffset = null)
    {
        string Root(string v) { while (viewOf.TryGetValue(v, out var s)) v = s; return v; }
        ulong Within(string v)
        {
            ulong offset = 0;
            for (; viewOf.TryGetValue(v, out var s); v = s) offset += viewOffset?.GetValueOrDefault(v) ?? 0;
            return offset;
        }
        alignment = Math.Max(16, alignment);

        // Lifetime of each root: from its first write to the last read of it or of any view of it.
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int s = 0; s < steps.Count; s++)
        {
            foreach (var w in steps[s].Writes)
            {
                string r = Root(w); first.TryAdd(r, s); last[r] = Math.Max(last.GetValueOrDefault(r, s),
                s);
            }
            foreach (var rd in steps[s].Reads) { string r = Root(rd); if (first.ContainsKey(r)) last[r] = Math.Max(last[r], s); }
        }
        var dedicated = pinned.Select(Root).Where(first.ContainsKey).ToHashSet(StringComparer.Ordinal);
        var rootBytes = first.Keys.ToDictionary(r => r, r => (bytes[r] + alignment - 1) / alignment * alignment, StringComparer.Ordinal);

        // Greedy by size: place the largest first at the lowest offset free for its whole lifetime.
        var order = first.Keys.Where(r => !dedicated.Contains(r))
            .OrderByDescending(r => rootBytes[r]).ThenBy(r => first[r]).ThenBy(r => r, StringComparer.Ordinal).ToList();
        var offsetOf = new Dictionary<string, ulong>(StringComparer.Ordinal);
        ulong arena = 0, naive = 0;
        foreach (var r in order)
        {
            naive += bytes[r];
            var busy = offsetOf.Keys.Where(o => first[o] <= last[r] && first[r] <= last[o])
                .Select(o => (Start: offsetOf[o], End: offsetOf[o] + rootBytes[o])).OrderBy(x => x.Start).ToList();
            ulong candidate = 0;
            foreach (var (start, end) in busy)
            {
                if (candidate + rootBytes[r] <= start) break;
                candidate = Math.Max(candidate, end);
            }
            offsetOf[r] = candidate;
            arena = Math.Max(arena, candidate + rootBytes[r]);
        }

        var rootOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var lifetimes = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        var valueOffsets = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var within = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var v in bytes.Keys)
        {
            string root = Root(v);
            if (!first.ContainsKey(root)) continue;
            rootOf[v] = root;
            lifetimes[v] = (first[root], last[root]);
            within[v] = Within(v);
            if (offsetOf.TryGetValue(root, out ulong off)) valueOffsets[v] = off + within[v];
        }
        return new MemoryPlan(rootOf, valueOffsets, dedicated, rootBytes, arena, naive, lifetimes) { OffsetInRoot = within };
    }
}
