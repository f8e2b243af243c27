using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>
/// Split along an axis (shader <c>split</c>, one copy kernel per output). Sizes come from the
/// 'split' attribute (opset &lt; 13) or the optional constant input 1 (opset 13+); without them
/// the axis is split equally, or with num_outputs (opset 18) into ceil(dim / n) chunks, the last smaller.
/// A size of 0 makes an empty output, which gets no buffer and no kernel.
/// Backward (<c>split_backward</c>): each output's gradient is added into its slot of dX; an output
/// without a gradient adds nothing.
/// </summary>
internal sealed class Split : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["Split"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var input = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", 0), input.Rank);
        return Sizes(c, input, axis).Select(size =>
        {
            var dims = input.ToArray();
            dims[axis] = (int)size;
            return new TensorShape(dims);
        }).ToList();
    }

    public void Build(OpBuildContext c)
    {
        var input = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", 0), input.Rank);
        long inner = 1;
        for (int d = axis + 1; d < input.Rank; d++) inner *= input[d];
        long inRow = input[axis] * inner, offset = 0;
        var sizes = Sizes(c, input, axis);
        for (int i = 0; i < c.OutputCount; i++)
        {
            if (sizes[i] == 0) continue; // an empty output: no buffer, nothing to copy
            var output = c.Output(i);
            long row = output.Shape[axis] * inner;
            Concat.Copy(c, "split", c.Input(0), output, output.ElementCount, row, inRow, offset);
            offset += row;
        }
    }

    /// <summary>X only: the split sizes are constants.</summary>
    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0;

    public void BuildBackward(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } dx) return;
        var input = dx.Shape;
        int axis = c.Axis(c.Int("axis", 0), input.Rank);
        long inner = 1;
        for (int d = axis + 1; d < input.Rank; d++) inner *= input[d];
        long inRow = input[axis] * inner, offset = 0;
        var sizes = Sizes(c, input, axis);
        for (int i = 0; i < sizes.Length; i++)
        {
            long row = sizes[i] * inner;
            if (row > 0 && c.OutputGradient(i) is { } dy) Concat.Copy(c, "split_backward", dy, dx, dy.ElementCount, row, inRow, offset);
            offset += row;
        }
    }

    private static long[] Sizes(OpContext c, TensorShape input, int axis)
    {
        int outputs = c.Node.Outputs.Count;
        long dim = input[axis];
        long[]? sizes = c.Ints("split") ?? (c.HasInput(1) ? c.RequireConstant(1, "split").AsInts() : null);
        if (sizes is not null)
        {
            if (sizes.Length != outputs)
                throw c.Error($"split [{string.Join(", ", sizes)}] has {sizes.Length} sizes for {outputs} outputs");
            if (sizes.Any(s => s < 0) || sizes.Sum() != dim)
                throw c.Error($"split [{string.Join(", ", sizes)}] does not add up to axis {axis} of input {input}");
        }
        else if (c.Int("num_outputs", 0) is var n and > 0)
        {
            if (n != outputs) throw c.Error($"num_outputs {n} differs from the node's {outputs} outputs");
            long chunk = (dim + n - 1) / n;
            sizes = Enumerable.Range(0, outputs).Select(i => Math.Min(chunk, dim - i * chunk)).ToArray();
            if (sizes[^1] <= 0)
                throw c.Error($"axis {axis} of input {input} cannot be split into {n} chunks of {chunk}");
        }
        else
        {
            if (dim % outputs != 0)
                throw c.Error($"axis {axis} of input {input} (size {dim}) cannot be split equally into {outputs} outputs");
            sizes = Enumerable.Repeat(dim / outputs, outputs).ToArray();
        }
        return sizes; // a size of 0 is an empty output
    }
}
