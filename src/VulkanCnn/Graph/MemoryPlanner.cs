namespace VulkanCnn.Graph;

/// <summary>
/// Liveness-based buffer reuse. Values that are views (Reshape …) share their source's buffer
/// and extend its lifetime. Graph inputs and outputs get buffers of their own; intermediates
/// share a pool of slots: a slot is reused once every value in it is dead.
/// </summary>
public sealed class MemoryPlan
{
    internal MemoryPlan(IReadOnlyDictionary<string, int> slotOf, IReadOnlyList<ulong> slotBytes, ulong naiveBytes,
        IReadOnlyDictionary<string, (int First, int Last)> lifetimes)
    {
        SlotOf = slotOf; SlotBytes = slotBytes; NaiveIntermediateBytes = naiveBytes; Lifetimes = lifetimes;
    }

    /// <summary>Buffer slot of each planned value (views share their source's slot).</summary>
    public IReadOnlyDictionary<string, int> SlotOf { get; }
    public IReadOnlyList<ulong> SlotBytes { get; }
    /// <summary>Step range during which a value's buffer must stay intact (defining step … last reading step).</summary>
    public IReadOnlyDictionary<string, (int First, int Last)> Lifetimes { get; }

    /// <summary>Sum of the slots holding intermediates.</summary>
    public ulong PeakIntermediateBytes { get; internal set; }
    /// <summary>What one buffer per intermediate value would take.</summary>
    public ulong NaiveIntermediateBytes { get; }
}

public static class MemoryPlanner
{
    /// <param name="steps">Per step: the values it reads and the values it writes, in execution order.</param>
    /// <param name="viewOf">Value → the value whose buffer it views (zero-copy ops).</param>
    /// <param name="bytes">Size of every value.</param>
    /// <param name="pinned">Values that need a dedicated buffer (graph inputs and outputs).</param>
    public static MemoryPlan Plan(IReadOnlyList<(IReadOnlyList<string> Reads, IReadOnlyList<string> Writes)> steps,
        IReadOnlyDictionary<string, string> viewOf, IReadOnlyDictionary<string, ulong> bytes, IReadOnlySet<string> pinned)
    {
        string Root(string v) { while (viewOf.TryGetValue(v, out var s)) v = s; return v; }

        // Lifetime of each root buffer: from its first write to the last read of it or any view of it.
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int s = 0; s < steps.Count; s++)
        {
            foreach (var w in steps[s].Writes) { string r = Root(w); first.TryAdd(r, s); last[r] = Math.Max(last.GetValueOrDefault(r, s), s); }
            foreach (var rd in steps[s].Reads) { string r = Root(rd); if (first.ContainsKey(r)) last[r] = Math.Max(last[r], s); }
        }
        var pinnedRoots = pinned.Select(Root).ToHashSet(StringComparer.Ordinal);
        bool IsPinned(string root) => pinnedRoots.Contains(root);

        var slotOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var slotBytes = new List<ulong>();
        var slotFreeAfter = new List<int>(); // step after which the slot may be reused; int.MaxValue = pinned
        ulong naive = 0;
        for (int s = 0; s < steps.Count; s++)
        {
            foreach (var w in steps[s].Writes)
            {
                string root = Root(w);
                if (slotOf.ContainsKey(root) || first[root] != s) continue;
                ulong size = bytes[root];
                bool pin = IsPinned(root);
                if (!pin) naive += size;
                int slot = -1;
                if (!pin)
                {
                    // Best fit among slots whose values all died before this step.
                    for (int k = 0; k < slotBytes.Count; k++)
                        if (slotFreeAfter[k] < s && (slot < 0 || Score(slotBytes[k], size) < Score(slotBytes[slot], size))) slot = k;
                }
                if (slot < 0) { slot = slotBytes.Count; slotBytes.Add(0); slotFreeAfter.Add(0); }
                slotBytes[slot] = Math.Max(slotBytes[slot], size);
                slotFreeAfter[slot] = pin ? int.MaxValue : last[root];
                slotOf[root] = slot;
            }
        }
        var all = new Dictionary<string, int>(StringComparer.Ordinal);
        var lifetimes = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        foreach (var v in bytes.Keys)
        {
            string root = Root(v);
            if (!slotOf.TryGetValue(root, out int slot)) continue;
            all[v] = slot;
            lifetimes[v] = (first[root], last[root]);
        }
        var pinnedSlots = slotOf.Where(p => IsPinned(p.Key)).Select(p => p.Value).ToHashSet();
        var plan = new MemoryPlan(all, slotBytes, naive, lifetimes);
        plan.PeakIntermediateBytes = slotBytes.Where((_, k) => !pinnedSlots.Contains(k)).Aggregate(0UL, (a, b) => a + b);
        return plan;
    }

    // Prefer a slot that already fits (least waste), then the largest one (least growth).
    private static double Score(ulong slot, ulong need) => slot >= need ? slot - need : 1e18 - slot;
}
