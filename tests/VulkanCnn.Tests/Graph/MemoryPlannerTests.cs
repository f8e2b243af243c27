using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Tests.Graph;

public sealed class MemoryPlannerTests
{
    private static (IReadOnlyList<string>, IReadOnlyList<string>) Step(string[] reads, string[] writes) => (reads, writes);

    /// <summary>The check that would catch aliasing: two values whose lifetimes overlap never share
    /// bytes, unless one is a view of the other; dedicated roots never share with anything.</summary>
    private static void AssertNoLiveAliasing(MemoryPlan plan)
    {
        var values = plan.RootOf.Keys.ToList();
        foreach (var a in values)
            foreach (var b in values)
            {
                string ra = plan.RootOf[a], rb = plan.RootOf[b];
                if (string.CompareOrdinal(a, b) >= 0 || ra == rb) continue;
                var (fa, la) = plan.Lifetimes[a];
                var (fb, lb) = plan.Lifetimes[b];
                if (!(fa <= lb && fb <= la)) continue;
                if (plan.DedicatedRoots.Contains(ra) || plan.DedicatedRoots.Contains(rb)) continue; // separate buffers
                ulong sa = plan.OffsetOf[a], ea = sa + plan.RootBytes[ra], sb = plan.OffsetOf[b], eb = sb + plan.RootBytes[rb];
                Assert.False(sa < eb && sb < ea,
                    $"'{a}' [{fa}..{la}] @[{sa},{ea}) and '{b}' [{fb}..{lb}] @[{sb},{eb}) overlap while both are live");
            }
    }

    [Fact]
    public void A_chain_needs_two_buffers_and_keeps_pinned_values_apart()
    {
        var steps = new[]
        {
            Step([], ["in"]), Step(["in"], ["a"]), Step(["a"], ["b"]), Step(["b"], ["c"]), Step(["c"], ["d"]), Step(["d"], ["out"]),
                Step(["out"], []),
        };
        var bytes = new Dictionary<string, ulong> { ["in"] = 100, ["a"] = 400, ["b"] = 400, ["c"] = 400, ["d"] = 400, ["out"] = 40 };
        var plan = MemoryPlanner.Plan(steps, new Dictionary<string, string>(), bytes, new HashSet<string> { "in", "out" });
        Assert.Equal(1600UL, plan.NaiveIntermediateBytes);
        Assert.Equal(800UL, plan.PeakIntermediateBytes);
        Assert.Equal(new HashSet<string> { "in", "out" }, plan.DedicatedRoots);
        Assert.NotEqual(plan.OffsetOf["a"], plan.OffsetOf["b"]);
        AssertNoLiveAliasing(plan);
    }

    [Fact]
    public void Small_values_fill_the_bytes_of_a_dead_large_one()
    {
        // big dies at step 2; three small values live together afterwards and fit inside its bytes.
        var steps = new[]
        {
            Step([], ["in"]), Step(["in"], ["big"]), Step(["big"], ["s1"]), Step(["s1"], ["s2"]), Step(["s1", "s2"], ["s3"]),
                Step(["s1", "s2", "s3"], ["out"]), Step(["out"], []),
        };
        var bytes = new Dictionary<string,
            ulong>
        { ["in"] = 16, ["big"] = 4800, ["s1"] = 1200, ["s2"] = 1200, ["s3"] = 1200, ["out"] = 16 };
        var plan = MemoryPlanner.Plan(steps, new Dictionary<string, string>(), bytes, new HashSet<string> { "in", "out" });
        Assert.Equal(6000UL, plan.PeakIntermediateBytes); // big + s1 live together at step 2, then s1..s3 reuse big's bytes
        AssertNoLiveAliasing(plan);
    }

    [Fact]
    public void A_view_extends_the_lifetime_of_its_source()
    {
        // a is viewed as v; v is read at step 4, so a's bytes must not be reused by b or c.
        var steps = new[]
        {
            Step([], ["in"]), Step(["in"], ["a"]), Step(["a"], ["v"]), Step(["a"], ["b"]), Step(["b", "v"], ["c"]), Step(["c"], ["out"]),
                Step(["out"], []),
        };
        var viewOf = new Dictionary<string, string> { ["v"] = "a" };
        var bytes = new Dictionary<string, ulong> { ["in"] = 4, ["a"] = 64, ["v"] = 64, ["b"] = 64, ["c"] = 64, ["out"] = 4 };
        var plan = MemoryPlanner.Plan(steps, viewOf, bytes, new HashSet<string> { "in", "out" });
        Assert.Equal(plan.OffsetOf["a"], plan.OffsetOf["v"]);
        Assert.NotEqual(plan.OffsetOf["a"], plan.OffsetOf["b"]);
        Assert.NotEqual(plan.OffsetOf["a"], plan.OffsetOf["c"]);
        AssertNoLiveAliasing(plan);
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
        AssertNoLiveAliasing(plan);
        Assert.True(plan.PeakIntermediateBytes <= plan.NaiveIntermediateBytes);
    }
}
