using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>
/// Slice (shader <c>slice</c>, a strided gather). Opset 1: starts/ends/axes attributes; opset 10+:
/// starts, ends, axes, steps as constant int64 inputs. Negative indices count from the end,
/// out-of-range values clamp (INT64 max/min work as "to the end"), negative steps walk backwards.
/// Backward (<c>slice_backward</c>): dY is added into dX at the sliced positions (a scatter; the
/// positions are distinct, so no two invocations touch one element).
/// </summary>
internal sealed class Slice : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["Slice"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var input = c.InputShape(0);
        return [new TensorShape(Resolve(c, input).Lengths)]; // may be empty: the runtime then runs no kernel
    }

    public void Build(OpBuildContext c)
    {
        var (baseOffset, lengths, strides) = Layout(c, c.InputShape(0));
        Transpose.Gather(c, "slice", c.Input(0), c.Output(0), baseOffset, lengths, strides);
    }

    /// <summary>X only: starts, ends, axes and steps are constants.</summary>
    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0;

    public void BuildBackward(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } dx || c.OutputGradient(0) is not { } dy) return;
        var (baseOffset, lengths, strides) = Layout(c, c.InputShape(0));
        Transpose.Gather(c, "slice_backward", dy, dx, baseOffset, lengths, strides);
    }

    /// <summary>The strided view of the input the slice reads: first element, lengths, element strides.</summary>
    private static (long Base, int[] Lengths, long[] Strides) Layout(OpContext c, TensorShape input)
    {
        var (starts, steps, lengths) = Resolve(c, input);
        long[] inStrides = Transpose.StridesOf(input);
        long baseOffset = 0;
        var strides = new long[input.Rank];
        for (int d = 0; d < input.Rank; d++)
        {
            baseOffset += starts[d] * inStrides[d];
            strides[d] = steps[d] * inStrides[d];
        }
        return (baseOffset, lengths, strides);
    }

    /// <summary>Per input axis: the first index read, the step, and the output length.</summary>
    private static (long[] Starts, long[] Steps, int[] Lengths) Resolve(OpContext c, TensorShape input)
    {
        int rank = input.Rank;
        long[] starts, ends;
        long[]? axes, steps = null;
        if (c.Ints("starts") is { } attrStarts)
        {
            // Opset 1: attributes, step 1.
            starts = attrStarts;
            ends = c.Ints("ends") ?? throw c.Error("the 'ends' attribute is missing");
            axes = c.Ints("axes");
        }
        else
        {
            starts = c.RequireConstant(1, "starts").AsInts();
            ends = c.RequireConstant(2, "ends").AsInts();
            axes = c.HasInput(3) ? c.RequireConstant(3, "axes").AsInts() : null;
            steps = c.HasInput(4) ? c.RequireConstant(4, "steps").AsInts() : null;
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(a => (long)a).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw c.Error($"starts [{string.Join(", ", starts)}], ends [{string.Join(", ", ends)}], axes [{string.Join(", ", axes)}] " +
                          $"and steps [{string.Join(", ", steps)}] must have the same length (input {input})");

        var outStarts = new long[rank];
        var outSteps = Enumerable.Repeat(1L, rank).ToArray();
        var lengths = input.ToArray();
        var seen = new HashSet<int>();
        for (int i = 0; i < starts.Length; i++)
        {
            long rawAxis = axes[i];
            if (rawAxis < -rank || rawAxis >= rank)
                throw c.Error($"axes [{string.Join(", ", axes)}] has axis {rawAxis}, out of range for input {input} of rank {rank}");
            int axis = (int)(rawAxis < 0 ? rawAxis + rank : rawAxis);
            if (!seen.Add(axis)) throw c.Error($"axes [{string.Join(", ", axes)}] repeats axis {axis} (input {input})");
            long step = steps[i];
            if (step == 0) throw c.Error($"steps [{string.Join(", ", steps)}] has a zero step for axis {axis}");
            long dim = input[axis];
            if (dim == 0) { lengths[axis] = 0; continue; } // nothing to clamp into: the slice stays empty
            long start = Wrap(starts[i], dim);
            long end = Wrap(ends[i], dim);
            // ONNX clamping: positive steps to [0, dim]; negative steps start in [0, dim - 1], end in [-1, dim - 1].
            start = step > 0 ? Math.Clamp(start, 0, dim) : Math.Clamp(start, 0, dim - 1);
            end = step > 0 ? Math.Clamp(end, 0, dim) : Math.Clamp(end, -1, dim - 1);
            // A step beyond the axis reads one element at most; clamping it keeps the arithmetic in range.
            step = Math.Clamp(step, -dim, dim);
            long span = step > 0 ? end - start : start - end;
            long length = span <= 0 ? 0 : (span - 1) / Math.Abs(step) + 1;
            outStarts[axis] = start;
            outSteps[axis] = step;
            lengths[axis] = (int)length;
        }
        return (outStarts, outSteps, lengths);
    }

    private static long Wrap(long index, long dim) => index < 0 ? index + dim : index;
}
