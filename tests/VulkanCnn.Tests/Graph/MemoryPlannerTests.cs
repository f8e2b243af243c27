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
                ulong sa = plan.OffsetOf[ra], ea = sa + plan.RootBytes[ra], sb = plan.OffsetOf[rb], eb = sb + plan.RootBytes[rb];
                Assert.False(sa < eb && sb < ea,
                    $"'{a}' [{fa}..{la}] @[{sa},{ea}) and '{b}' [{fb}..{lb}] @[{sb},{eb}) overlap while both are live");
            }
    }

    /// <summary>Batch pieces: two pieces written in place into a whole ("w" = pieces p0, p1 at 0 and 64 bytes) and read back through
    /// two slices (s0, s1 views of w): every piece lies inside the whole's bytes at its own offset, and the whole lives from the first
    /// piece's write to the last slice's read, so nothing else is placed over it meanwhile.</summary>
    [Fact]
    public void Views_at_byte_offsets_lie_inside_their_root_and_extend_its_lifetime()
    {
        var steps = new[]
        {
            Step([], ["in"]), Step(["in"], ["p0"]), Step(["in"], ["p1"]), Step(["p0", "p1"], ["w"]), Step(["w"], ["s0"]),
            Step(["w"], ["s1"]), Step(["s0"], ["o0"]), Step(["s1"], ["o1"]), Step(["o0", "o1"], ["other"]), Step(["other"], ["out"]),
            Step(["out"], []),
        };
        var bytes = new Dictionary<string, ulong>
        {
            ["in"] = 64,
            ["p0"] = 64,
            ["p1"] = 64,
            ["w"] = 128,
            ["s0"] = 64,
            ["s1"] = 64,
            ["o0"] = 32,
            ["o1"] = 32,
            ["other"] = 128,
            ["out"] = 16,
        };
        var viewOf = new Dictionary<string, string> { ["p0"] = "w", ["p1"] = "w", ["s0"] = "w", ["s1"] = "w" };
        var offsets = new Dictionary<string, ulong> { ["p1"] = 64, ["s1"] = 64 };
        var plan = MemoryPlanner.Plan(steps, viewOf, bytes, new HashSet<string> { "in", "out" }, 16, offsets);
        ulong w = plan.OffsetOf["w"];
        Assert.Equal(w, plan.OffsetOf["p0"]);
        Assert.Equal(w + 64, plan.OffsetOf["p1"]);
        Assert.Equal(w + 64, plan.OffsetOf["s1"]);
        Assert.Equal(64UL, plan.OffsetInRoot["p1"]);
        Assert.Equal(0UL, plan.OffsetInRoot["w"]);
        Assert.Equal((1, 7), plan.Lifetimes["w"]);
        Assert.Equal(plan.Lifetimes["w"], plan.Lifetimes["p0"]);
        AssertNoLiveAliasing(plan);
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
