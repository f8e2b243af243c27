using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>Concat along any axis of N inputs whose sizes differ on that axis only (shader
/// <c>concat</c>: one copy kernel per input writing at its offset; empty inputs are skipped). Backward
/// (<c>concat_backward</c>): each input's gradient adds its slot of dY.</summary>
internal sealed class Concat : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["Concat"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;


    /// <summary>Every input, along an axis other than the batch (checked by the compiler).</summary>
    public IReadOnlyList<int>? PerSampleInputs(Node node) => Enumerable.Range(0, node.Inputs.Count).ToList();

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        if (c.InputCount == 0) throw c.Error("Concat needs at least one input");
        var first = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", 1), first.Rank); // required since opset 4; opset 1 defaulted to 1
        var dims = first.ToArray();
        for (int i = 1; i < c.InputCount; i++)
        {
            var s = c.InputShape(i);
            bool match = s.Rank == first.Rank;
            for (int d = 0; match && d < s.Rank; d++) match = d == axis || s[d] == first[d];
            if (!match)
                throw c.Error($"input {i} has shape {s}, which does not match input 0 {first} outside axis {axis}");
            dims[axis] += s[axis];
        }
        return [new TensorShape(dims)];
    }

    public void Build(OpBuildContext c)
    {
        var output = c.OutputShape(0);
        int axis = c.Axis(c.Int("axis", 1), output.Rank);
        long inner = 1;
        for (int d = axis + 1; d < output.Rank; d++) inner *= output[d];
        long outRow = output[axis] * inner, offset = 0;
        for (int i = 0; i < c.InputCount; i++)
        {
            if (c.InputShape(i).IsEmpty) continue; // an empty part adds nothing (and has no buffer)
            var input = c.Input(i);
            long row = input.Shape[axis] * inner;
            Copy(c, "concat", input, c.Output(0), input.ElementCount, row, outRow, offset);
            offset += row;
        }
    }

    public bool HasGradient(Node node, int inputIndex) => node.HasInput(inputIndex);

    public void BuildBackward(BackwardContext c)
    {
        if (c.OutputGradient(0) is not { } dy) return;
        int axis = c.Axis(c.Int("axis", 1), dy.Shape.Rank);
        long inner = 1;
        for (int d = axis + 1; d < dy.Shape.Rank; d++) inner *= dy.Shape[d];
        long outRow = dy.Shape[axis] * inner, offset = 0;
        for (int i = 0; i < c.InputCount; i++)
        {
            long row = c.InputShape(i)[axis] * inner;
            if (row > 0 && c.InputGradient(i) is { } dx) Copy(c, "concat_backward", dy, dx, dx.ElementCount, row, outRow, offset);
            offset += row;
        }
    }

    /// <summary>
    /// A block copy between [outer, row] and the columns [offset, offset + row) of [outer, otherRow]
    /// (shaders concat / split and their accumulating backward); vec4 moves when all three are multiples of 4.
    /// </summary>
    internal static void Copy(KernelSink c, string shader, Tensor from, Tensor to, long count, long row, long otherRow, long offset)
    {
        bool vec4 = row % 4 == 0 && otherRow % 4 == 0 && offset % 4 == 0;
        int unit = vec4 ? 4 : 1;
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey(shader, 2, 16, local) { Constants = [vec4 ? 1u : 0u] });
        ReadOnlySpan<uint> push = [checked((uint)(count / unit)), checked((uint)(row / unit)), checked((uint)(otherRow / unit)),
            checked((uint)(offset / unit))];
        c.Dispatch(pipeline, [from, to], c.Grid1D(count / unit, local), MemoryMarshal.AsBytes(push));
    }
}
