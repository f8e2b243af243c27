using VulkanCnn.Graph;

namespace VulkanCnn.Tests.Graph;

public sealed class MemoryPlannerTests
{
    private static (IReadOnlyList<string>, IReadOnlyList<string>) Step(string[] reads, string[] writes) => (reads, writes);

    /// <summary>The check that would catch aliasing: two values whose lifetimes overlap never share a slot,
    /// unless one is a view of the other.</summary>
    private static void AssertNoLiveAliasing(MemoryPlan plan, IReadOnlyDictionary<string, string> viewOf)
    {
        string Root(string v) { while (viewOf.TryGetValue(v, out var s)) v = s; return v; }
        var values = plan.SlotOf.Keys.ToList();
        foreach (var a in values)
            foreach (var b in values)
            {
                if (string.CompareOrdinal(a, b) >= 0 || Root(a) == Root(b) || plan.SlotOf[a] != plan.SlotOf[b]) continue;
                var (fa, la) = plan.Lifetimes[a];
                var (fb, lb) = plan.Lifetimes[b];
                Assert.False(fa <= lb && fb <= la, $"'{a}' [{fa}..{la}] and '{b}' [{fb}..{lb}] are live together in slot {plan.SlotOf[a]}");
            }
    }

    [Fact]
    public void A_chain_reuses_two_slots_and_keeps_pinned_values_apart()
    {
        var steps = new[]
        {
            Step([], ["in"]), Step(["in"], ["a"]), Step(["a"], ["b"]), Step(["b"], ["c"]), Step(["c"], ["d"]), Step(["d"], ["out"]), Step(["out"], []),
        };
        var bytes = new Dictionary<string, ulong> { ["in"] = 100, ["a"] = 400, ["b"] = 400, ["c"] = 400, ["d"] = 400, ["out"] = 40 };
        var plan = MemoryPlanner.Plan(steps, new Dictionary<string, string>(), bytes, new HashSet<string> { "in", "out" });
        Assert.Equal(1600UL, plan.NaiveIntermediateBytes);
        Assert.Equal(800UL, plan.PeakIntermediateBytes);
        Assert.NotEqual(plan.SlotOf["in"], plan.SlotOf["a"]);
        Assert.Equal(4, new[] { "in", "out", "a", "b" }.Select(v => plan.SlotOf[v]).Distinct().Count());
        AssertNoLiveAliasing(plan, new Dictionary<string, string>());
    }

    [Fact]
    public void A_view_extends_the_lifetime_of_its_source()
    {
        // a is viewed as v; v is read at step 4, so a's slot must not be reused by b or c.
        var steps = new[]
        {
            Step([], ["in"]), Step(["in"], ["a"]), Step(["a"], ["v"]), Step(["a"], ["b"]), Step(["b", "v"], ["c"]), Step(["c"], ["out"]), Step(["out"], []),
        };
        var viewOf = new Dictionary<string, string> { ["v"] = "a" };
        var bytes = new Dictionary<string, ulong> { ["in"] = 4, ["a"] = 64, ["v"] = 64, ["b"] = 64, ["c"] = 64, ["out"] = 4 };
        var plan = MemoryPlanner.Plan(steps, viewOf, bytes, new HashSet<string> { "in", "out" });
        Assert.Equal(plan.SlotOf["a"], plan.SlotOf["v"]);
        Assert.NotEqual(plan.SlotOf["a"], plan.SlotOf["b"]);
        Assert.NotEqual(plan.SlotOf["a"], plan.SlotOf["c"]);
        AssertNoLiveAliasing(plan, viewOf);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Random_dags_never_alias_live_values(int seed)
    {
        var rng = new Random(seed);
        var steps = new List<(IReadOnlyList<string>, IReadOnlyList<string>)> { Step([], ["v0"]) };
        var bytes = new Dictionary<string, ulong> { ["v0"] = 16 };
        var viewOf = new Dictionary<string, string>();
        for (int i = 1; i < 60; i++)
        {
            var reads = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => "v" + rng.Next(0, i)).Distinct().ToArray();
            string v = "v" + i;
            steps.Add(Step(reads, [v]));
            bytes[v] = (ulong)rng.Next(1, 100) * 4;
            if (rng.Next(5) == 0) { viewOf[v] = reads[0]; bytes[v] = bytes[reads[0]]; }
        }
        steps.Add(Step(["v59", "v58"], []));
        var plan = MemoryPlanner.Plan(steps, viewOf, bytes, new HashSet<string> { "v0", "v59", "v58" });
        AssertNoLiveAliasing(plan, viewOf);
        Assert.True(plan.PeakIntermediateBytes <= plan.NaiveIntermediateBytes);
    }
}
