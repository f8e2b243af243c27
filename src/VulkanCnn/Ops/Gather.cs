using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Gather along any axis with constant int64 indices of any rank (shader <c>gather</c>). The
/// output is data.shape[:axis] + indices.shape + data.shape[axis+1:]; negative indices count from
/// the end and out-of-range ones fail at compile time.
/// </summary>
internal sealed class Gather : IOperator
{
    public IReadOnlyList<string> OpTypes { get; } = ["Gather"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var data = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", 0), data.Rank);
        var indices = c.RequireConstant(1, "indices");
        Wrapped(c, data, axis, indices);
        int[] dims = [.. data.Dimensions[..axis], .. indices.Shape.Dimensions, .. data.Dimensions[(axis + 1)..]];
        return [new TensorShape(dims)];
    }

    public void Build(OpBuildContext c)
    {
        var data = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", 0), data.Rank);
        var constant = c.RequireConstant(1, "indices");
        int[] indices = Wrapped(c, data, axis, constant);
        long inner = 1;
        for (int d = axis + 1; d < data.Rank; d++) inner *= data[d];
        var indexBuffer = c.WeightInt32("indices", [indices.Length], indices);

        long count = c.OutputShape(0).ElementCount;
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey("gather", 3, 16, local));
        ReadOnlySpan<uint> push = [checked((uint)count), checked((uint)inner), (uint)indices.Length, (uint)data[axis]];
        c.Dispatch(pipeline, [c.Input(0), indexBuffer, c.Output(0)], c.Grid1D(count, local), MemoryMarshal.AsBytes(push));
    }

    private static int[] Wrapped(OpContext c, TensorShape data, int axis, HostTensor indices)
    {
        long dim = data[axis];
        long[] raw = indices.AsInts();
        var wrapped = new int[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            long v = raw[i];
            if (v < -dim || v >= dim)
                throw c.Error($"index {v} (position {i} of indices {indices.Shape}) is out of range [{-dim}, {dim - 1}] for axis {axis} " +
                    $"of data {data}");
            wrapped[i] = (int)(v < 0 ? v + dim : v);
        }
        return wrapped;
    }
}
