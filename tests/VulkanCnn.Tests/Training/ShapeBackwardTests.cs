using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Training;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Training;

/// <summary>
/// Backward of the data-movement ops (Concat, Split, Slice, Transpose, the views, Pad). The CPU
/// reference of each is an index map built naively here: output element o reads input element
/// (In, At), or the pad constant. Forward = gather through the map, backward = its adjoint (a
/// scatter-add), checked against central finite differences of the forward; the GPU forward
/// output is checked against the map as well, so map and kernels agree.
/// </summary>
public sealed class ShapeBackwardTests(GpuFixture gpu) : GpuTest(gpu)
{
    /// <summary>A random activation input of the given shape, seeded by its shape.</summary>
    private static In Rand(int[] shape) => In.Random(new TensorShape(shape), shape.Sum() * 31 + shape.Length);

    /// <summary>Per output: its shape and, per element, the input element it reads (In = -1: the constant).</summary>
    private sealed record Map(int[] Shape, (int In, int At)[] Source);

    [Fact]
    public void Concat_splits_dy_back_to_the_inputs()
    {
        int[][] shapes = [[2, 3, 5], [2, 1, 5], [2, 4, 5]];
        Check("Concat", Attrs(("axis", 1)), shapes.Select(Rand).ToList(), [ConcatMap(shapes, 1)], want: [true, false, true]);
        // Rows of 4 and 8 floats: the vec4 path.
        int[][] aligned = [[3, 4], [3, 8]];
        Check("Concat", Attrs(("axis", -1)), aligned.Select(Rand).ToList(), [ConcatMap(aligned, 1)]);
    }

    [Fact]
    public void Split_concatenates_output_gradients_and_a_missing_one_counts_as_zero()
    {
        int[] shape = [2, 7, 3];
        Check("Split", Attrs(("axis", 1), ("split", new[] { 2, 4, 1 })), [Rand(shape)], SplitMap(shape, 1, [2, 4, 1]),
            outputGradients: [true, false, true]);
        // Opset 13: sizes as an input; rows of 4 floats take the vec4 path.
        int[] aligned = [3, 8];
        Check("Split", Attrs(("axis", -1)), [Rand(aligned), In.Int64(4, 4)], SplitMap(aligned, 1, [4, 4]));
    }

    [Theory]
    [InlineData(new long[] { 1, -1, 0 }, new long[] { 4, -9, 6 }, new long[] { 0, 1, 2 }, new long[] { 2, -2, 4 })]
    [InlineData(new long[] { -1, 1 }, new long[] { -100, 5 }, new long[] { 2, 0 }, new long[] { -3, 1 })]
    [InlineData(new long[] { 0 }, new long[] { 3 }, new long[] { -2 }, new long[] { 1 })]
    public void Slice_scatters_dy_into_the_sliced_positions(long[] starts, long[] ends, long[] axes, long[] steps)
    {
        int[] shape = [4, 5, 6];
        Check("Slice", null, [Rand(shape), In.Int64(starts), In.Int64(ends), In.Int64(axes), In.Int64(steps)],
            [SliceMap(shape, starts, ends, axes, steps)]);
    }

    [Fact]
    public void Slice_opset1_attributes()
    {
        int[] shape = [3, 7];
        Check("Slice", Attrs(("starts", new[] { 1 }), ("ends", new[] { 6 }), ("axes", new[] { 1 })), [Rand(shape)],
            [SliceMap(shape, [1], [6], [1], [1])]);
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 2, 0, 3, 1 })]
    [InlineData(new[] { 3, 5 }, null)]
    [InlineData(new[] { 2, 1, 3 }, new[] { 1, 2, 0 })]
    public void Transpose_gradient_uses_the_inverse_permutation(int[] shape, int[]? perm)
    {
        perm ??= Enumerable.Range(0, shape.Length).Reverse().ToArray();
        Check("Transpose", perm.Length == 2 ? null : Attrs(("perm", perm)), [Rand(shape)], [TransposeMap(shape, perm)]);
    }

    [Fact]
    public void Views_add_dy_in_the_input_shape()
    {
        int[] shape = [2, 3, 5]; // 30 values: a vec4 body and a tail of 2
        Check("Reshape", null, [Rand(shape), In.Int64(5, -1)], [ViewMap(shape, [5, 6])]);
        Check("Flatten", Attrs(("axis", 2)), [Rand(shape)], [ViewMap(shape, [6, 5])]);
        Check("Unsqueeze", null, [Rand(shape), In.Int64(0, -1)], [ViewMap(shape, [1, 2, 3, 5, 1])]);
        Check("Squeeze", Attrs(("axes", new[] { 1 })), [Rand([3, 1, 1])], [ViewMap([3, 1, 1], [3, 1])]);
    }

    [Theory]
    [InlineData("constant", new long[] { 0, 1, 2, 1, 0, -1 })]
    [InlineData("reflect", new long[] { 0, 2, 3, 0, 1, 4 })]
    [InlineData("reflect", new long[] { 1, -1, 2, 0, 2, 1 })]
    [InlineData("edge", new long[] { 0, 2, 1, 1, 3, 2 })]
    [InlineData("wrap", new long[] { 0, 4, 3, 0, 2, 7 })]
    public void Pad_gathers_the_interior_and_accumulates_the_borders(string mode, long[] pads)
    {
        int[] shape = [2, 3, 5];
        var attrs = Attrs(("mode", mode));
        Check("Pad", attrs, [Rand(shape), In.Int64(pads), mode == "constant" ? In.Weight([], [0.5f]) : null],
            [PadMap(shape, pads, mode)], constant: 0.5);
    }

    [Fact]
    public void Pad_opset2_attribute_form_on_an_untouched_outer_block()
    {
        int[] shape = [2, 3, 4, 5];
        long[] pads = [0, 0, 0, 1, 0, 0, 0, 2];
        Check("Pad", Attrs(("mode", "reflect"), ("pads", pads)), [Rand(shape)], [PadMap(shape, pads, "reflect")]);
    }

    [Fact]
    public void Shape_like_inputs_have_no_gradient()
    {
        var x = HostTensor.FromFloats(new TensorShape(2, 3), [1, 2, 3, 4, 5, 6]);
        var node = new Node("Reshape", "reshape0", ["x", "shape"], ["y"]);
        NodeInput?[] inputs = [new NodeInput(x), new NodeInput(HostTensor.FromInts(new TensorShape(1), [-1]), true)];
        var dy = HostTensor.FromFloats(new TensorShape(6), [1, 1, 1, 1, 1, 1]);
        var e = Assert.Throws<ArgumentException>(() => BackwardRunner.Run(Device, node, inputs, [dy], [true, true]));
        Assert.Contains("input 1", e.Message);
        Assert.False(new Pad().HasGradient(new Node("Pad", "pad0", ["x", "pads", "value"], ["y"]), 2));
        Assert.False(new Slice().HasGradient(new Node("Slice", "slice0", ["x", "s", "e"], ["y"]), 1));
        Assert.True(new Concat().HasGradient(new Node("Concat", "concat0", ["a", "b"], ["y"]), 1));
        // Without an output gradient nothing is added: the initial gradient comes back unchanged.
        var r = BackwardRunner.Run(Device, node, inputs, [null], [true, false], initialGradients: [x]);
        Assert.Equal(x.Floats!, r.InputGradients[0]!.Floats!);
    }

    /// <summary>
    /// Runs forward + backward from random non-zero initial gradients and checks: the GPU forward
    /// against the map, the map's adjoint against finite differences, the GPU gradients against it.
    /// </summary>
    private void Check(string op, Attributes? attrs, IReadOnlyList<In?> inputs, IReadOnlyList<Map> maps, bool[]? want = null,
        bool[]? outputGradients = null, double constant = 0)
    {
        int seed = op.Length * 1000 + inputs.Sum(i => i?.Shape.Rank ?? 0) * 10 + maps[0].Source.Length;
        // The leading float activations are differentiable; the rest are constants (sizes, pads, …).
        int differentiable = inputs.TakeWhile(i => i is { Data: not null, Const: false }).Count();
        var data = inputs.Take(differentiable).Select(i => i!.Data!).ToArray();
        want ??= Enumerable.Repeat(true, differentiable).ToArray();
        var dys = maps.Select((m, k) => outputGradients is null || outputGradients[k] ? Reference.Random(m.Source.Length, seed + 50 + k)
            : null).ToArray();
        var initial = data.Select((d, k) => Reference.Random(d.Length, seed + 90 + k)).ToArray();

        var x = data.Select(d => d.Select(v => (double)v).ToArray()).ToArray();
        var expected = ReferenceBackward(maps, dys, data.Select(d => d.Length).ToArray());
        AssertMatchesFiniteDifferences(p => ReferenceLoss(maps, p, dys, constant), x, expected);

        var node = new Node(op, op.ToLowerInvariant() + "0", inputs.Select((i, k) => i is null ? "" : $"in{k}"),
            maps.Select((_, k) => $"out{k}"), attrs);
        var nodeInputs = inputs.Select(i => i is null ? null : new NodeInput(i.ToConstant(), i.Const)).ToList();
        var r = BackwardRunner.Run(Device, node, nodeInputs,
            dys.Select((g, k) => g is null ? null : HostTensor.FromFloats(new TensorShape(maps[k].Shape), g)).ToList(),
            [.. want, .. Enumerable.Repeat(false, inputs.Count - differentiable)],
            initialGradients: initial.Select((g, k) => HostTensor.FromFloats(inputs[k]!.Shape, g)).ToList());

        for (int k = 0; k < maps.Count; k++)
        {
            Assert.Equal(new TensorShape(maps[k].Shape), r.Outputs[k].Shape);
            var forward = maps[k].Source.Select(s => s.In < 0 ? (float)constant : data[s.In][s.At]).ToArray();
            Assert.Equal(forward, r.Outputs[k].Floats!);
        }
        for (int k = 0; k < differentiable; k++)
        {
            if (!want[k]) { Assert.Null(r.InputGradients[k]); continue; }
            Tolerance.AssertClose(expected[k].Select((g, i) => (float)(initial[k][i] + g)).ToArray(), r.InputGradients[k]!.Floats!,
                Tolerance.Op, $"{op} d{k}");
        }
    }

    private static double[][] ReferenceBackward(IReadOnlyList<Map> maps, float[]?[] dys, int[] sizes)
    {
        var grads = sizes.Select(n => new double[n]).ToArray();
        for (int k = 0; k < maps.Count; k++)
        {
            if (dys[k] is not { } dy) continue;
            for (int o = 0; o < dy.Length; o++)
                if (maps[k].Source[o] is { In: >= 0 } s) grads[s.In][s.At] += dy[o];
        }
        return grads;
    }

    private static double ReferenceLoss(IReadOnlyList<Map> maps, double[][] x, float[]?[] dys, double constant)
    {
        double loss = 0;
        for (int k = 0; k < maps.Count; k++)
        {
            if (dys[k] is not { } dy) continue;
            for (int o = 0; o < dy.Length; o++)
                loss += dy[o] * (maps[k].Source[o] is { In: >= 0 } s ? x[s.In][s.At] : constant);
        }
        return loss;
    }

    private static Map ConcatMap(int[][] shapes, int axis)
    {
        var outShape = shapes[0].ToArray();
        outShape[axis] = shapes.Sum(s => s[axis]);
        return Build(outShape, c =>
        {
            int k = 0, along = c[axis];
            while (along >= shapes[k][axis]) along -= shapes[k++][axis];
            var ic = c.ToArray();
            ic[axis] = along;
            return (k, NdFlat(ic, shapes[k]));
        });
    }

    private static List<Map> SplitMap(int[] shape, int axis, int[] sizes)
    {
        int offset = 0;
        var maps = new List<Map>();
        foreach (int size in sizes)
        {
            var outShape = shape.ToArray();
            outShape[axis] = size;
            int start = offset;
            maps.Add(Build(outShape, c =>
            {
                var ic = c.ToArray();
                ic[axis] += start;
                return (0, NdFlat(ic, shape));
            }));
            offset += size;
        }
        return maps;
    }

    private static Map SliceMap(int[] shape, long[] starts, long[] ends, long[] axes, long[] steps)
    {
        // Per axis, the input indices the slice reads, in order (ONNX clamping).
        var indices = shape.Select(n => Enumerable.Range(0, n).ToList()).ToArray();
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = (int)(axes[i] < 0 ? axes[i] + shape.Length : axes[i]);
            long n = shape[axis], step = steps[i];
            long start = starts[i] < 0 ? starts[i] + n : starts[i], end = ends[i] < 0 ? ends[i] + n : ends[i];
            var list = new List<int>();
            if (step > 0)
                for (long j = Math.Clamp(start, 0, n); j < Math.Clamp(end, 0, n); j += step) list.Add((int)j);
            else
                for (long j = Math.Clamp(start, 0, n - 1); j > Math.Clamp(end, -1, n - 1); j += step) list.Add((int)j);
            indices[axis] = list;
        }
        return Build(indices.Select(l => l.Count).ToArray(), c => (0, NdFlat(c.Select((v, d) => indices[d][v]).ToArray(), shape)));
    }

    private static Map TransposeMap(int[] shape, int[] perm) =>
        Build(perm.Select(a => shape[a]).ToArray(), c =>
        {
            var ic = new int[shape.Length];
            for (int k = 0; k < perm.Length; k++) ic[perm[k]] = c[k];
            return (0, NdFlat(ic, shape));
        });

    private static Map ViewMap(int[] shape, int[] outShape) => Build(outShape, c => (0, NdFlat(c, outShape)));

    private static Map PadMap(int[] shape, long[] pads, string mode)
    {
        int rank = shape.Length;
        var outShape = shape.Select((n, d) => (int)(n + pads[d] + pads[d + rank])).ToArray();
        return Build(outShape, c =>
        {
            var ic = new int[rank];
            for (int d = 0; d < rank; d++)
            {
                // Crop first: the source is input[lo, hi); then pad around it.
                int lo = (int)Math.Max(0, -pads[d]), hi = shape[d] - (int)Math.Max(0, -pads[d + rank]), n = hi - lo;
                int s = c[d] - (int)Math.Max(0, pads[d]);
                if (s < 0 || s >= n)
                {
                    if (mode == "constant") return (-1, -1);
                    if (mode == "edge") s = Math.Clamp(s, 0, n - 1);
                    else if (mode == "wrap") s = ((s % n) + n) % n;
                    else
                        while (s < 0 || s >= n) s = n == 1 ? 0 : s < 0 ? -s : 2 * (n - 1) - s;
                }
                ic[d] = lo + s;
            }
            return (0, NdFlat(ic, shape));
        });
    }

    private static Map Build(int[] shape, Func<int[], (int, int)> source)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        var src = new (int, int)[count];
        var c = new int[shape.Length];
        for (int o = 0; o < count; o++)
        {
            int rest = o;
            for (int d = shape.Length - 1; d >= 0; d--) { c[d] = rest % shape[d]; rest /= shape[d]; }
            src[o] = source(c);
        }
        return new Map(shape, src);
    }

    private static int NdFlat(int[] coords, int[] dims)
    {
        int f = 0;
        for (int d = 0; d < dims.Length; d++) f = f * dims[d] + coords[d];
        return f;
    }

    private static void AssertMatchesFiniteDifferences(Func<double[][], double> loss, double[][] x, double[][] analytic) =>
        FiniteDifference.AssertMatches(loss, x, analytic);
}
