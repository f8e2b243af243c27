using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Ops;

/// <summary>Concat and Split against CPU references that copy element by element.</summary>
public sealed class ConcatSplitTests(GpuFixture gpu) : GpuTest(gpu)
{
    internal static float[] ConcatReference(IReadOnlyList<(int[] Dims, float[] Data)> inputs, int axis, out int[] outDims)
    {
        outDims = (int[])inputs[0].Dims.Clone();
        outDims[axis] = inputs.Sum(i => i.Dims[axis]);
        var owner = new List<(int Input, int Offset)>();
        for (int i = 0; i < inputs.Count; i++)
            for (int k = 0; k < inputs[i].Dims[axis]; k++) owner.Add((i, k));
        return NdIndex.Build(outDims, o =>
        {
            var (input, k) = owner[o[axis]];
            var src = (int[])o.Clone();
            src[axis] = k;
            return inputs[input].Data[NdIndex.Flat(src, inputs[input].Dims)];
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(-1)]
    public void Concat_of_three_different_sizes_on_each_axis(int axis)
    {
        int[] baseDims = [2, 3, 5, 7];
        int a = axis < 0 ? axis + 4 : axis;
        var ins = new List<In>();
        foreach (var (len, seed) in new[] { (1, 31), (4, 32), (2, 33) })
        {
            var dims = (int[])baseDims.Clone();
            dims[a] = len;
            ins.Add(In.Random(dims, seed));
        }
        var y = Run1(Device, "Concat", Attrs(("axis", axis)), [.. ins]);
        var expected = ConcatReference(ins.Select(i => (i.Shape.ToArray(), i.Data!)).ToList(), a, out var outDims);
        Assert.Equal(new TensorShape(outDims), y.Shape);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Concat_on_the_vec4_path_and_with_a_constant_input()
    {
        // Rows of 4 * 16 and offsets in whole vec4s take the vec4 copy.
        var x = In.Random([2, 3, 4, 4], 34);
        var w = In.Weight([2, 5, 4, 4], Infrastructure.Reference.Random(160, 35));
        var y = Run1(Device, "Concat", Attrs(("axis", 1)), x, w);
        var expected = ConcatReference([(x.Shape.ToArray(), x.Data!), (w.Shape.ToArray(), w.Data!)], 1, out var outDims);
        Assert.Equal(new TensorShape(outDims), y.Shape);
        Tolerance.AssertClose(expected, y.Floats, Tolerance.Op);
    }

    [Fact]
    public void Mismatched_concat_names_both_shapes()
    {
        var e = Assert.Throws<GraphException>(() =>
            Run1(Device, "Concat", Attrs(("axis", 1)), In.Random([2, 3, 5], 36), In.Random([2, 4, 6], 37)));
        Assert.Contains("concat0", e.Message);
        Assert.Contains("[2, 3, 5]", e.Message);
        Assert.Contains("[2, 4, 6]", e.Message);
        Assert.Throws<GraphException>(() => Run1(Device, "Concat", Attrs(("axis", 3)), In.Random([2, 3, 5], 36), In.Random([2, 3, 5], 37)));
        Assert.Throws<GraphException>(() => Run1(Device, "Concat", Attrs(("axis", 0)), In.Random([2, 3], 36), In.Random([2, 3, 1], 37)));
    }

    private IReadOnlyList<HostTensor> RunSplit(int outputs, Attributes? attributes, params In?[] inputs)
    {
        var node = new Node("Split", "split0", inputs.Select((x, i) => x is null ? "" : $"in{i}"),
            Enumerable.Range(0, outputs).Select(i => $"out{i}"), attributes);
        return NodeRunner.Run(Device, node, inputs.Select(x => x is null ? null : new NodeInput(x.ToConstant(), x.Const)).ToList());
    }

    private static void AssertSplit(In x, int axis, int[] sizes, IReadOnlyList<HostTensor> outputs)
    {
        int[] dims = x.Shape.ToArray();
        Assert.Equal(sizes.Length, outputs.Count);
        int offset = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            var outDims = (int[])dims.Clone();
            outDims[axis] = sizes[i];
            int start = offset;
            var expected = NdIndex.Build(outDims, o =>
            {
                var src = (int[])o.Clone();
                src[axis] += start;
                return x.Data![NdIndex.Flat(src, dims)];
            });
            Assert.Equal(new TensorShape(outDims), outputs[i].Shape);
            Tolerance.AssertClose(expected, outputs[i].Floats, Tolerance.Op, $"output {i}");
            offset += sizes[i];
        }
    }

    [Theory]
    [InlineData(0, new[] { 1, 2 })]
    [InlineData(1, new[] { 2, 3, 2 })]
    [InlineData(2, new[] { 4, 1 })]
    [InlineData(3, new[] { 3, 1, 3 })]
    public void Split_sizes_as_input_and_as_attribute(int axis, int[] sizes)
    {
        int[] dims = [2, 3, 5, 7];
        dims[axis] = sizes.Sum();
        var x = In.Random(dims, 41 + axis);
        AssertSplit(x, axis, sizes, RunSplit(sizes.Length, Attrs(("axis", axis)), x, In.Int64(sizes.Select(s => (long)s).ToArray())));
        AssertSplit(x, axis, sizes, RunSplit(sizes.Length, Attrs(("axis", axis), ("split", sizes)), x));
    }

    [Fact]
    public void Split_equally_by_default_and_by_num_outputs()
    {
        var x = In.Random([2, 6, 3, 8], 45);
        AssertSplit(x, 1, [2, 2, 2], RunSplit(3, Attrs(("axis", 1)), x));
        AssertSplit(x, 3, [4, 4], RunSplit(2, Attrs(("axis", -1)), x));           // vec4 path
        var y = In.Random([2, 7, 3], 46);
        AssertSplit(y, 1, [3, 3, 1], RunSplit(3, Attrs(("axis", 1), ("num_outputs", 3)), y));
        AssertSplit(y, 1, [7], RunSplit(1, Attrs(("axis", 1)), y));
    }

    [Fact]
    public void Bad_splits_name_the_shape()
    {
        var x = In.Random([2, 7, 3], 47);
        var e = Assert.Throws<GraphException>(() => RunSplit(2, Attrs(("axis", 1)), x));
        Assert.Contains("split0", e.Message);
        Assert.Contains("[2, 7, 3]", e.Message);
        Assert.Throws<GraphException>(() => RunSplit(2, Attrs(("axis", 1)), x, In.Int64(3, 3)));
        Assert.Throws<GraphException>(() => RunSplit(3, Attrs(("axis", 1)), x, In.Int64(3, 4)));
        Assert.Throws<GraphException>(() => RunSplit(2, Attrs(("axis", 3)), x));
    }

    [Fact]
    public void Zero_sizes_make_empty_outputs_next_to_the_computed_ones()
    {
        var x = In.Random([2, 7, 3], 48);
        AssertSplit(x, 1, [7, 0], RunSplit(2, Attrs(("axis", 1)), x, In.Int64(7, 0)));
        AssertSplit(x, 1, [0, 4, 0, 3], RunSplit(4, Attrs(("axis", 1)), x, In.Int64(0, 4, 0, 3)));
        var empty = RunSplit(3, null, new In([0], []), In.Int64(0, 0, 0));
        Assert.All(empty, o => Assert.Equal(new TensorShape(0), o.Shape));
    }
}
