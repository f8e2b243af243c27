using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Pad against a CPU reference: crop by the negative pads, then pad by the positive ones.</summary>
public sealed class PadTests(GpuFixture gpu) : GpuTest(gpu)
{
    internal static (int[] Dims, float[] Data) Reference(float[] x, int[] dims, long[] pads, string mode, float value)
    {
        int rank = dims.Length;
        var outDims = new int[rank];
        for (int d = 0; d < rank; d++) outDims[d] = (int)(dims[d] + pads[d] + pads[d + rank]);
        var data = NdIndex.Build(outDims, o =>
        {
            var src = new int[rank];
            for (int d = 0; d < rank; d++)
            {
                int crop = (int)Math.Max(0, -pads[d]);
                int len = dims[d] - crop - (int)Math.Max(0, -pads[d + rank]);
                int c = o[d] - (int)Math.Max(0, pads[d]);
                if (c < 0 || c >= len)
                {
                    switch (mode)
                    {
                        case "constant": return value;
                        case "edge": c = Math.Clamp(c, 0, len - 1); break;
                        case "wrap": c = ((c % len) + len) % len; break;
                        default:
                            // Reflect step by step, like numpy: bounce between the two ends.
                            while (c < 0 || c >= len)
                            {
                                if (len == 1) { c = 0; break; }
                                c = c < 0 ? -c : 2 * (len - 1) - c;
                            }
                            break;
                    }
                }
                src[d] = crop + c;
            }
            return x[NdIndex.Flat(src, dims)];
        });
        return (outDims, data);
    }

    public static TheoryData<string, int[], long[]> Cases => new()
    {
        { "constant", [2, 3, 5, 7], [0, 0, 1, 2, 0, 0, 3, 0] },       // one-sided, asymmetric
        { "constant", [2, 3, 5, 7], [0, 1, -1, 0, 1, 0, 2, -3] },     // negative pads crop
        { "reflect", [2, 3, 5, 7], [0, 0, 2, 3, 0, 0, 4, 1] },
        { "reflect", [2, 3, 5, 7], [0, 0, -1, 2, 0, 0, 3, -2] },
        { "reflect", [1, 2, 3, 2], [0, 0, 5, 3, 0, 0, 4, 4] },        // pads larger than the axis bounce back
        { "edge", [2, 3, 5, 7], [1, 0, 2, 3, 0, 2, 1, 4] },
        { "edge", [2, 3, 1, 1], [0, 0, 2, 1, 0, 0, 1, 2] },           // 1x1 spatial
        { "edge", [2, 3, 5, 7], [0, -1, 1, -2, 0, -1, -3, 3] },
        { "wrap", [2, 3, 5, 7], [0, 0, 2, 8, 0, 0, 6, 1] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pad_input_form_matches_reference(string mode, int[] dims, long[] pads)
    {
        var x = In.Random(dims, 51);
        var y = Run1(Device, "Pad", Attrs(("mode", mode)), x, In.Int64(pads), new In([], [0.75f], Const: true));
        var (outDims, expected) = Reference(x.Data!, dims, pads, mode, 0.75f);
        Assert.Equal(new TensorShape(outDims), y.Shape);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Pad_attribute_form_of_opset_2()
    {
        int[] dims = [3, 5, 6];
        var x = In.Random(dims, 52);
        long[] pads = [1, 0, 2, 0, 3, -1];
        var y = Run1(Device, "Pad", Attrs(("mode", "constant"), ("pads", pads.Select(p => (int)p).ToArray()), ("value", -2.5f)), x);
        var (outDims, expected) = Reference(x.Data!, dims, pads, "constant", -2.5f);
        Assert.Equal(new TensorShape(outDims), y.Shape);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);

        y = Run1(Device, "Pad", Attrs(("pads", pads.Select(p => (int)p).ToArray())), x);
        Tolerance.AssertClose(Reference(x.Data!, dims, pads, "constant", 0).Data, y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Pad_with_axes_input_of_opset_18_and_default_value()
    {
        int[] dims = [2, 3, 4, 5];
        var x = In.Random(dims, 53);
        var y = Run1(Device, "Pad", Attrs(("mode", "reflect")), x, In.Int64(1, 2, 3, 0), null, In.Int64(-1, 2));
        var (outDims, expected) = Reference(x.Data!, dims, [0, 0, 2, 1, 0, 0, 0, 3], "reflect", 0);
        Assert.Equal(new TensorShape(outDims), y.Shape);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);

        y = Run1(Device, "Pad", null, x, In.Int64(0, 0, 0, 1, 0, 0, 0, 1));
        Tolerance.AssertClose(Reference(x.Data!, dims, [0, 0, 0, 1, 0, 0, 0, 1], "constant", 0).Data, y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Bad_pads_name_the_node_and_shape()
    {
        var x = In.Random([2, 3, 4], 54);
        var e = Assert.Throws<GraphException>(() => Run1(Device, "Pad", null, x, In.Int64(1, 1, 1, 1)));
        Assert.Contains("pad0", e.Message);
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Pad", null, x, In.Int64(0, 0, -3, 0, 0, -2)));
        Assert.Throws<GraphException>(() => Run1(Device, "Pad", Attrs(("mode", "mirror")), x, In.Int64(0, 0, 1, 0, 0, 1)));
        Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Pad", null, x, In.Int64(0, 0, -2, 0, 0, -2)));
        Assert.Throws<UnsupportedAttributeException>(() => Run1(Device, "Pad", null, x, In.Of([6], new float[6])));
    }
}
