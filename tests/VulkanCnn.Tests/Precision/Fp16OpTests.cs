using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Tests.Ops;
using VulkanCnn.Vulkan;
using static VulkanCnn.Tests.Infrastructure.OpRunner;

namespace VulkanCnn.Tests.Precision;

/// <summary>
/// The op matrix with fp16 storage: every operator that offers fp16 kernels (<see cref="OperatorTraits.Fp16Storage"/>) run as an
/// fp16 session stores it — inputs and weights in half, its .f16 kernels, the output read back — against the naive double
/// references of its fp32 tests, on inputs already rounded to half, within <see cref="Tolerance.Fp16Storage"/> (Conv's variants:
/// <see cref="Fp16ConvTests"/>).
/// </summary>
public sealed class Fp16OpTests(GpuFixture gpu) : GpuTest(gpu)
{
    private sealed record Case(string OpType, Func<GpuDevice, (float[] Expected, float[] Actual)> Run);

    /// <summary>Random values already representable in half, so fp16 storage holds exactly what the reference reads.</summary>
    private static In H(int[] shape, int seed, float low = -1, float high = 1) =>
        In.Of(shape, Reference.RoundToHalf(Reference.Random(shape.Aggregate(1, (a, b) => a * b), seed, low, high)));

    private static In HWeight(int[] shape, int seed, float low = -1, float high = 1) => H(shape, seed, low, high) with { Const = true };

    private static float[] Y(GpuDevice d, string op, Attributes? a, params In?[] inputs) =>
        RunStored(DataType.Float16, d, op, a, inputs)[0].Floats!;

    private static Case Pointwise(string op, Func<double, double> f, Attributes? a = null, float low = -3, float high = 3) => new(op, d =>
    {
        var x = H([2, 3, 5, 7], op.Length, low, high);
        return (UnaryTests.Map(x.Data!, f), Y(d, op, a, x));
    });

    private static Case Broadcast(string op, Func<double, double, double> f, float low = -2, float high = 2) => new(op, d =>
    {
        var a = H([2, 3, 4, 5], op.Length, low, high);
        var b = H([3, 1, 5], op.Length + 1, 0.5f, 2);
        var expected = BroadcastReference.Map([2, 3, 4, 5], v => f(v[0], v[1]), ([2, 3, 4, 5], a.Data!), ([3, 1, 5], b.Data!));
        return (expected, Y(d, op, null, a, b));
    });

    private static Case Pool(string op, int[] k, int[] s, int[] pads) => new(op, d =>
    {
        int[] shape = [2, 5, 9, 11];
        var x = H(shape, 11);
        int oh = PoolTests.OutSize(9, k[0], s[0], 1, pads[0], pads[2], false);
        int ow = PoolTests.OutSize(11, k[1], s[1], 1, pads[1], pads[3], false);
        var a = Attrs(("kernel_shape", k), ("strides", s), ("pads", pads));
        return (PoolTests.PoolRef(x.Data!, shape, k, s, [1, 1], pads, oh, ow, op == "MaxPool", false), Y(d, op, a, x));
    });

    private static readonly Dictionary<string, Case> Cases = BuildCases();

    private static Dictionary<string, Case> BuildCases()
    {
        var cases = new Dictionary<string, Case>();
        foreach (var (op, f) in UnaryTests.Activations) cases[op] = Pointwise(op, f);
        cases["Clip_bounds"] = Pointwise("Clip", v => Math.Clamp(v, -1, 2), Attrs(("min", -1f), ("max", 2f)));
        cases["Sqrt"] = Pointwise("Sqrt", Math.Sqrt, low: 0, high: 4);
        cases["Exp"] = Pointwise("Exp", Math.Exp);
        cases["Erf"] = Pointwise("Erf", UnaryTests.Erf);
        cases["Neg"] = Pointwise("Neg", v => -v);
        cases["Abs"] = Pointwise("Abs", Math.Abs);
        cases["Add"] = Broadcast("Add", (a, b) => a + b);
        cases["Sub"] = Broadcast("Sub", (a, b) => a - b);
        cases["Mul"] = Broadcast("Mul", (a, b) => a * b);
        cases["Div"] = Broadcast("Div", (a, b) => a / b);
        cases["Pow"] = Broadcast("Pow", Math.Pow, low: 0.25f, high: 2);
        cases["Max"] = Broadcast("Max", Math.Max);
        cases["Min"] = Broadcast("Min", Math.Min);
        cases["Sum"] = Broadcast("Sum", (a, b) => a + b);
        cases["Mean"] = Broadcast("Mean", (a, b) => (a + b) / 2);
        cases["PRelu"] = Broadcast("PRelu", (a, b) => a >= 0 ? a : a * b);
        cases["MaxPool"] = Pool("MaxPool", [3, 3], [2, 2], [1, 1, 1, 1]);
        cases["AveragePool"] = Pool("AveragePool", [2, 4], [3, 2], [1, 0, 0, 2]);
        cases["GlobalAveragePool"] = Pool("GlobalAveragePool", [9, 11], [1, 1], [0, 0, 0, 0]) with
        {
            Run = d =>
        {
            var x = H([2, 5, 9, 11], 12);
            return (PoolTests.PoolRef(x.Data!, [2, 5, 9, 11], [9, 11], [1, 1], [1, 1], [0, 0, 0, 0], 1, 1, false, false),
                Y(d, "GlobalAveragePool", null, x));
        }
        };
        cases["GlobalMaxPool"] = new("GlobalMaxPool", d =>
        {
            var x = H([2, 5, 9, 11], 13);
            return (PoolTests.PoolRef(x.Data!, [2, 5, 9, 11], [9, 11], [1, 1], [1, 1], [0, 0, 0, 0], 1, 1, true, false),
                Y(d, "GlobalMaxPool", null, x));
        });
        cases["Gemm"] = new("Gemm", d =>
        {
            const int m = 7, k = 13, n = 10;
            var a = H([m, k], 1);
            var b = HWeight([n, k], 2);
            var c = HWeight([n], 3);
            return (GemmTests.GemmReference(a.Data!, b.Data!, m, k, n, false, true, 1, 1, (_, j) => c.Data![j]),
                Y(d, "Gemm", Attrs(("transB", 1)), a, b, c));
        });
        cases["MatMul"] = new("MatMul", d =>
        {
            var a = H([2, 5, 6], 4);
            var b = H([6, 9], 5);
            return (GemmTests.MatMulReference(a.Data!, [2, 5, 6], b.Data!, [6, 9]).Data, Y(d, "MatMul", null, a, b));
        });
        cases["ConvTranspose"] = new("ConvTranspose", d =>
        {
            var (name, c) = ConvTransposeTests.Cases.First(p => p.Value.Bias);
            var x = H([c.N, c.C, c.H, c.W], 6);
            var w = HWeight([c.C, c.M / c.Group, c.KH, c.KW], 7, -0.5f, 0.5f);
            var b = HWeight([c.M], 8);
            return (ConvTransposeTests.Reference(c, x.Data!, w.Data!, b.Data!).Y,
                Y(d, "ConvTranspose", ConvTransposeTests.Attributes(c), x, w, b));
        });
        cases["BatchNormalization"] = new("BatchNormalization", d =>
        {
            var x = H([2, 3, 4, 5], 9);
            var (scale, bias, mean) = (HWeight([3], 10, 0.5f, 1.5f), HWeight([3], 11), HWeight([3], 12));
            var variance = HWeight([3], 13, 0.5f, 2);
            return (NormalizationTests.BnRef(x.Data!, 2, 3, scale.Data!, bias.Data!, mean.Data!, variance.Data!, 1e-5, v => v),
                Y(d, "BatchNormalization", null, x, scale, bias, mean, variance));
        });
        cases["InstanceNormalization"] = new("InstanceNormalization", d =>
        {
            var x = H([2, 3, 4, 5], 14);
            var (scale, bias) = (HWeight([3], 15), HWeight([3], 16));
            return (NormalizationTests.InstanceNormRef(x.Data!, 2, 3, scale.Data!, bias.Data!, 1e-5),
                Y(d, "InstanceNormalization", null, x, scale, bias));
        });
        cases["LayerNormalization"] = new("LayerNormalization", d =>
        {
            var x = H([3, 4, 10], 17);
            var (scale, bias) = (HWeight([10], 18), HWeight([10], 19));
            return (NormalizationTests.LayerNormRef(x.Data!, 10, scale.Data!, bias.Data!, 1e-5),
                Y(d, "LayerNormalization", null, x, scale, bias));
        });
        cases["LRN"] = new("LRN", d =>
        {
            var x = H([2, 7, 3, 4], 20);
            return (NormalizationTests.LrnRef(x.Data!, [2, 7, 3, 4], 3, 1e-2, 0.75, 1),
                Y(d, "LRN", Attrs(("size", 3L), ("alpha", 1e-2f)), x));
        });
        foreach (var op in new[] { "Softmax", "LogSoftmax" })
            cases[op] = new(op, d =>
            {
                var x = H([3, 4, 6], 21, -4, 4);
                return (SoftmaxTests.Reference(op, [3, 4, 6], 1, x.Data!), Y(d, op, Attrs(("axis", 1L)), x));
            });
        foreach (var op in new[] { "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin" })
            cases[op] = new(op, d =>
            {
                var x = H([2, 3, 4, 5], 22, -2, 2);
                return (ReduceTests.ReduceRef(op, x.Data!, [2, 3, 4, 5], [false, true, false, true]),
                    Y(d, op, Attrs(("keepdims", 1L), ("axes", new long[] { 1, 3 })), x));
            });
        cases["Transpose"] = new("Transpose", d =>
        {
            var x = H([2, 3, 4, 5], 23);
            return (TransposeTests.Reference(x.Data!, [2, 3, 4, 5], [0, 2, 3, 1]),
                Y(d, "Transpose", Attrs(("perm", new long[] { 0, 2, 3, 1 })), x));
        });
        cases["Concat"] = new("Concat", d =>
        {
            var (a, b) = (H([2, 3, 5], 24), H([2, 4, 5], 25));
            return (ConcatSplitTests.ConcatReference([([2, 3, 5], a.Data!), ([2, 4, 5], b.Data!)], 1, out _),
                Y(d, "Concat", Attrs(("axis", 1L)), a, b));
        });
        cases["Split"] = new("Split", d =>
        {
            var x = H([2, 7, 5], 26);
            var node = new Node("Split", "split0", ["x", "split"], ["a", "b"], Attrs(("axis", 1L)));
            var outputs = VulkanCnn.Compiler.NodeRunner.Run(d, node, [new(x.ToConstant()), new(In.Int64(3, 4).ToConstant(), true)],
                DataType.Float16);
            // Both parts, concatenated, are the input again: output a holds channels 0-2 of each image, b channels 3-6.
            var parts = Enumerable.Range(0, 2).SelectMany(n => outputs[0].Floats!.Skip(n * 15).Take(15).Concat(
                outputs[1].Floats!.Skip(n * 20).Take(20))).ToArray();
            return (x.Data!, parts);
        });
        cases["Slice"] = new("Slice", d =>
        {
            var x = H([2, 3, 5, 7], 27);
            return (SliceTests.Reference(x.Data!, [2, 3, 5, 7], [1, 0], [6, 3], [3, 1], [2, 2]).Data,
                Y(d, "Slice", null, x, In.Int64(1, 0), In.Int64(6, 3), In.Int64(3, 1), In.Int64(2, 2)));
        });
        cases["Pad"] = new("Pad", d =>
        {
            var x = H([2, 3, 5, 7], 28);
            long[] pads = [0, 0, 1, 2, 0, 0, 3, 0];
            return (PadTests.Reference(x.Data!, [2, 3, 5, 7], pads, "reflect", 0).Data,
                Y(d, "Pad", Attrs(("mode", "reflect")), x, In.Int64(pads)));
        });
        cases["Resize"] = new("Resize", d =>
        {
            var x = H([2, 3, 5, 4], 29);
            return (ResizeTests.Reference(x.Data!, [2, 3, 5, 4], 10, 8, 2, 2, true, "half_pixel", "round_prefer_floor"),
                Y(d, "Resize", Attrs(("mode", "linear")), x, null, new In([4], [1, 1, 2, 2], Const: true)));
        });
        cases["Upsample"] = new("Upsample", d =>
        {
            var x = H([2, 3, 5, 4], 30);
            return (ResizeTests.Reference(x.Data!, [2, 3, 5, 4], 10, 12, 2, 3, false, "asymmetric", "floor"),
                Y(d, "Upsample", Attrs(("mode", "nearest")), x, new In([4], [1, 1, 2, 3], Const: true)));
        });
        cases["DepthToSpace"] = new("DepthToSpace", d =>
        {
            var x = H([2, 8, 3, 5], 31);
            return (DepthToSpaceTests.DepthToSpaceReference(x.Data!, 2, 8, 3, 5, 2, "CRD"),
                Y(d, "DepthToSpace", Attrs(("blocksize", 2L), ("mode", "CRD")), x));
        });
        cases["SpaceToDepth"] = new("SpaceToDepth", d =>
        {
            var x = H([2, 3, 4, 6], 32);
            return (DepthToSpaceTests.ReshapeTranspose(x.Data!, [2, 3, 2, 2, 3, 2], [0, 3, 5, 1, 2, 4]),
                Y(d, "SpaceToDepth", Attrs(("blocksize", 2L)), x));
        });
        cases["Gather"] = new("Gather", d =>
        {
            var x = H([5, 3, 7], 33);
            return (GatherTests.Reference(x.Data!, [5, 3, 7], 1, [4], [2, 0, -1, 1]).Data,
                Y(d, "Gather", Attrs(("axis", 1L)), x, new In([4], Ints: [2, 0, -1, 1], Const: true)));
        });
        cases["Expand"] = new("Expand", d =>
        {
            var x = H([3, 1, 5], 34);
            return (BroadcastReference.Map([2, 3, 4, 5], v => v[0], ([3, 1, 5], x.Data!)), Y(d, "Expand", null, x, In.Int64(2, 3, 4, 5)));
        });
        cases["Where"] = new("Where", d =>
        {
            var condition = In.Of([3, 1, 5], Reference.Random(15, 35).Select(v => v > 0 ? 1f : 0).ToArray());
            var (a, b) = (H([2, 3, 4, 5], 36), H([4, 1], 37));
            return (BroadcastReference.Map([2, 3, 4, 5], v => v[0] != 0 ? v[1] : v[2], ([3, 1, 5], condition.Data!),
                ([2, 3, 4, 5], a.Data!),
                ([4, 1], b.Data!)), Y(d, "Where", null, condition, a, b));
        });
        return cases;
    }

    public static TheoryData<string> CaseNames => new(Cases.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Operator_with_fp16_storage_matches_cpu_reference(string name)
    {
        var (expected, actual) = Cases[name].Run(Device);
        Tolerance.AssertClose(expected, actual, Tolerance.Fp16Storage, $"{name} (fp16)");
    }

    /// <summary>A half tensor bound where a kernel declares float elements is refused at build time, naming the kernel and the
    /// tensor: BatchNormalization's runtime-parameter path folds them with batch_norm_fold, which has no fp16 build.</summary>
    [Fact]
    public void A_half_tensor_on_a_float_binding_is_refused_by_name()
    {
        var x = H([2, 3, 4, 5], 40);
        var (scale, bias, mean, variance) = (H([3], 41), H([3], 42), H([3], 43), H([3], 44, 0.5f, 2));
        var e = Assert.ThrowsAny<GraphException>(() => Y(Device, "BatchNormalization", null, x, scale, bias, mean, variance));
        Assert.Contains("batch_norm_fold", e.Message);
        Assert.Contains("Float16", e.Message);
    }

    /// <summary>An operator that declares fp16 kernels joins this matrix (Conv through <see cref="Fp16ConvTests"/>).</summary>
    [Fact]
    public void Every_operator_with_fp16_kernels_has_a_case()
    {
        var fp16 = OperatorRegistry.OpTypes.Where(t => OperatorRegistry.TryGet(t, out var op)
            && op.Traits(new Node(t, "n", ["x"], ["y"])).HasFlag(OperatorTraits.Fp16Storage)).ToHashSet();
        Assert.Contains("Conv", fp16);
        fp16.Remove("Conv");
        Assert.Empty(fp16.Except(Cases.Values.Select(c => c.OpType)));
    }
}
