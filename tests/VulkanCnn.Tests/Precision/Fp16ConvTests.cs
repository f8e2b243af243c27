using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Tests.Ops;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Precision;

/// <summary>Conv with fp16 storage: every case and variant of <see cref="ConvTests"/>, inputs and weights rounded to half, against
/// the same double reference on the rounded values, within <see cref="Tolerance.Fp16Storage"/>.</summary>
public sealed class Fp16ConvTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>Every case of <see cref="ConvTests"/> with each variant the operator offers an fp16 node.</summary>
    public static TheoryData<string, string> CaseStrategies()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, c) in ConvTests.Cases)
        {
            var node = new Ir.Node("Conv", "c", ["x", "w", "b"], ["y"], ConvTests.Attributes(c));
            var g = ConvGeometry.ForConv(new OpContext(node, [new TensorShape(c.N, c.C, c.H, c.W),
                new TensorShape(c.M, c.C / c.Group, c.KH, c.KW), new TensorShape(c.M)], [null, null, null]));
            foreach (var v in ConvStrategySelector.Names)
                if (ConvStrategySelector.Refusal(ConvStrategySelector.Parse(v), g, null, DataType.Float16) is null) data.Add(name, v);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseStrategies))]
    public void Strategy_with_fp16_storage_matches_cpu_reference(string name, string strategy)
    {
        var c = ConvTests.Cases[name];
        var (x, w, b) = ConvTests.Inputs(c, seed: name.Length);
        (x, w, b) = (Reference.RoundToHalf(x), Reference.RoundToHalf(w), b is null ? null : Reference.RoundToHalf(b));
        var attrs = ConvTests.Attributes(c);
        attrs.Set(ConvStrategySelector.Attribute, strategy);
        var y = RunStored(DataType.Float16, Device, "Conv", attrs, In.Of([c.N, c.C, c.H, c.W], x),
            In.Weight([c.M, c.C / c.Group, c.KH, c.KW], w), b is null ? null : In.Weight([c.M], b))[0];
        var (expected, _, _) = ConvTests.Reference(c, x, w, b);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Fp16Storage, $"{name} ({strategy}, fp16)");
    }

    /// <summary>F(4,3)'s output transform amplifies half-rounded tiles beyond the fp16 bound: fp16 nodes refuse it by name and the
    /// heuristic takes F(2,3) where fp32 would take F(4,3).</summary>
    [Fact]
    public void Fp16_nodes_refuse_winograd_f4x3_and_choose_f2x3()
    {
        var c = ConvTests.Cases["k3x3_ragged_tiles_batch2_relu"];
        var (x, w, b) = ConvTests.Inputs(c, seed: 5);
        var attrs = ConvTests.Attributes(c);
        attrs.Set(ConvStrategySelector.Attribute, "winograd_f4x3");
        var e = Assert.ThrowsAny<Ir.GraphException>(() => RunStored(DataType.Float16, Device, "Conv", attrs, In.Of([c.N, c.C, c.H, c.W], x),
            In.Weight([c.M, c.C, 3, 3], w), In.Weight([c.M], b!)));
        Assert.Contains("fp16", e.Message);
        var node = new Ir.Node("Conv", "c", ["x", "w", "b"], ["y"], ConvTests.Attributes(c));
        TensorShape?[] shapes = [new TensorShape(c.N, c.C, c.H, c.W), new TensorShape(c.M, c.C, 3, 3), new TensorShape(c.M)];
        Ir.HostTensor?[] constants = [null, Ir.HostTensor.FromFloats([c.M, c.C, 3, 3], w), null];
        Assert.Equal("winograd_f4x3", VariantSelector.Choose(new OpContext(node, shapes, constants), Device, null, null));
        Assert.Equal("winograd_f2x3", VariantSelector.Choose(new OpContext(node, shapes, constants) { Storage = DataType.Float16 },
            Device, null, null));
    }
}
