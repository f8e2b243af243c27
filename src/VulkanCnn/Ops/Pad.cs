using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Pad (shader <c>pad</c>), modes constant, reflect, edge and wrap. Pads are an attribute before
/// opset 11 ('paddings' in opset 1) and a constant int64 input after, with the constant value an
/// attribute or optional input and the axes input of opset 18. Negative pads crop: the input is
/// cropped first, then padded. Backward (<c>pad_backward</c>): every input element sums the output
/// positions that read it (the interior in constant mode, plus the mirrored/edge/wrapped borders).
/// </summary>
internal sealed class Pad : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["Pad"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var input = c.InputShape(0);
        Mode(c);
        var (begin, end) = Pads(c, input);
        var dims = new int[input.Rank];
        for (int d = 0; d < input.Rank; d++)
        {
            long size = input[d] + begin[d] + end[d];
            if (size == 0)
                throw c.Unsupported($"pads [{string.Join(", ", begin.Concat(end))}] make axis {d} of input {input} empty; empty tensors " +
                    $"are not supported");
            if (input[d] + Math.Min(0, begin[d]) + Math.Min(0, end[d]) <= 0 || size < 0)
                throw c.Error($"pads [{string.Join(", ", begin.Concat(end))}] crop away all of axis {d} of input {input}");
            dims[d] = checked((int)size);
        }
        return [new TensorShape(dims)];
    }

    public void Build(OpBuildContext c)
    {
        var input = c.InputShape(0);
        var output = c.OutputShape(0);
        var (begin, end) = Pads(c, input);
        long[] inStrides = Transpose.StridesOf(input);

        // Per axis (outer first): output size, pad before the cropped source, cropped length, stride.
        var axes = new List<(long Out, long Before, long Len, long Stride)>();
        long baseOffset = 0;
        for (int d = 0; d < input.Rank; d++)
        {
            long crop = Math.Max(0, -begin[d]);
            baseOffset += crop * inStrides[d];
            var axis = (Out: (long)output[d], Before: Math.Max(0, begin[d]), Len: input[d] - crop - Math.Max(0, -end[d]),
                Stride: inStrides[d]);
            // An untouched axis whose inner neighbour is untouched too merges into it.
            if (axes.Count > 0 && axes[^1] is var prev && prev.Out == prev.Len && prev.Before == 0 && axis.Out == axis.Len
                && axis.Before == 0
                && prev.Stride == axis.Stride * axis.Len)
                axes[^1] = (prev.Out * axis.Out, 0, prev.Len * axis.Len, axis.Stride);
            else
                axes.Add(axis);
        }
        if (axes.Count > 6) throw c.Unsupported($"padding {axes.Count} separate axes of input {input}; at most 6 are supported");

        var push = new int[28];
        push[0] = checked((int)output.ElementCount);
        push[1] = checked((int)baseOffset);
        push[2] = axes.Count;
        push[3] = BitConverter.SingleToInt32Bits(Value(c));
        for (int a = 0; a < axes.Count; a++)
        {
            push[4 + a] = checked((int)axes[a].Out);
            push[10 + a] = checked((int)axes[a].Before);
            push[16 + a] = checked((int)axes[a].Len);
            push[22 + a] = checked((int)axes[a].Stride);
        }
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("pad", 2, push.Length * 4, local) { Constants = [(uint)Mode(c)] });
        c.Dispatch(pipeline, [c.Input(0), c.Output(0)], c.Grid1D(output.ElementCount, local), MemoryMarshal.AsBytes(push.AsSpan()));
    }

    /// <summary>X only: pads, constant_value and axes are constants.</summary>
    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0;

    public void BuildBackward(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } dx || c.OutputGradient(0) is not { } dy) return;
        var input = c.InputShape(0);
        var output = dy.Shape;
        var (begin, end) = Pads(c, input);
        int mode = Mode(c);
        long[] outStrides = Transpose.StridesOf(output);
        // Per axis (outer first): input size, output stride and, where padded or cropped, the output
        // coordinates that read each input coordinate (in increasing order: a fixed summation order).
        var axes = new List<(long InDim, long OutStride, List<int>[]? Readers)>();
        for (int d = 0; d < input.Rank; d++)
        {
            if (begin[d] == 0 && end[d] == 0)
            {
                // An untouched axis merges into an untouched outer neighbour.
                if (axes.Count > 0 && axes[^1].Readers is null && axes[^1].OutStride == outStrides[d] * input[d])
                    axes[^1] = (axes[^1].InDim * input[d], outStrides[d], null);
                else
                    axes.Add((input[d], outStrides[d], null));
                continue;
            }
            long crop = Math.Max(0, -begin[d]), before = Math.Max(0, begin[d]);
            long len = input[d] - crop - Math.Max(0, -end[d]);
            var readers = Enumerable.Range(0, input[d]).Select(_ => new List<int>()).ToArray();
            for (int o = 0; o < output[d]; o++)
                if (SourceOf(mode, o - before, len) is { } s) readers[crop + s].Add(o);
            axes.Add((input[d], outStrides[d], readers));
        }
        if (axes.Count > 6) throw c.Unsupported($"the gradient of padding {axes.Count} separate axes of input {input}; at most 6 are " +
            $"supported");

        // CSR table per padded axis: InDim + 1 absolute offsets, then the reader lists.
        var table = new List<int>();
        var push = new int[22];
        push[0] = checked((int)input.ElementCount);
        push[1] = axes.Count;
        for (int a = 0; a < axes.Count; a++)
        {
            push[4 + a] = checked((int)axes[a].InDim);
            push[10 + a] = checked((int)axes[a].OutStride);
            if (axes[a].Readers is not { } readers)
            {
                push[2] |= 1 << a;
                continue;
            }
            push[16 + a] = table.Count;
            int header = table.Count;
            table.AddRange(new int[readers.Length + 1]);
            for (int i = 0; i < readers.Length; i++)
            {
                table[header + i] = table.Count;
                table.AddRange(readers[i]);
            }
            table[header + readers.Length] = table.Count;
        }
        if (table.Count == 0) table.Add(0);
        var tableTensor = c.WeightInt32("readers", new TensorShape(table.Count), table.ToArray());
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("pad_backward", 3, push.Length * 4, local));
        c.Dispatch(pipeline, [dy, tableTensor, dx], c.Grid1D(input.ElementCount, local), MemoryMarshal.AsBytes(push.AsSpan()));
    }

    /// <summary>The cropped-source coordinate output coordinate <paramref name="c"/> (relative to the
    /// source start) reads along an axis of <paramref name="n"/> source values, as pad.comp computes it; null for the constant.</summary>
    private static int? SourceOf(int mode, long c, long n)
    {
        if (c >= 0 && c < n) return (int)c;
        if (mode == 0) return null;
        if (mode == 2) return (int)Math.Clamp(c, 0, n - 1);
        if (mode == 3) return (int)(c < 0 ? n - 1 - (-c - 1) % n : c % n);
        if (n == 1) return 0;
        long period = 2 * (n - 1);
        c = Math.Abs(c) % period;
        return (int)(c >= n ? period - c : c);
    }

    private static int Mode(OpContext c) => (c.String("mode") ?? "constant") switch
    {
        "constant" => 0,
        "reflect" => 1,
        "edge" => 2,
        "wrap" => 3,
        var m => throw c.Error($"mode '{m}' is not a Pad mode (constant, reflect, edge, wrap)"),
    };

    private static float Value(OpContext c)
    {
        if (c.Node.Attributes.Has("value")) return c.Float("value", 0);
        if (!c.HasInput(2)) return 0;
        var value = c.RequireConstant(2, "constant_value");
        if (value.Shape.ElementCount != 1) throw c.Error($"constant_value has shape {value.Shape}; it must be a scalar");
        return value.AsFloats()[0];
    }

    /// <summary>Begin and end pads per input axis.</summary>
    private static (long[] Begin, long[] End) Pads(OpContext c, TensorShape input)
    {
        int rank = input.Rank;
        long[] pads = c.Ints("pads") ?? c.Ints("paddings") ?? c.RequireConstant(1, "pads").AsInts();
        int[] axes = Enumerable.Range(0, rank).ToArray();
        if (c.HasInput(3))
        {
            long[] raw = c.RequireConstant(3, "axes").AsInts();
            axes = raw.Select(a => c.Axis(a, rank, "axes")).ToArray();
            if (axes.Distinct().Count() != axes.Length) throw c.Error($"axes [{string.Join(", ", raw)}] repeat an axis");
        }
        if (pads.Length != 2 * axes.Length)
            throw c.Error($"pads [{string.Join(", ", pads)}] must hold {2 * axes.Length} values (begin and end for {axes.Length} axes) " +
                $"for input {input}");
        var begin = new long[rank];
        var end = new long[rank];
        for (int i = 0; i < axes.Length; i++)
        {
            begin[axes[i]] = pads[i];
            end[axes[i]] = pads[i + axes.Length];
        }
        return (begin, end);
    }
}
