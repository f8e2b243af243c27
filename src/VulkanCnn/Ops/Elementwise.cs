using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// Shared by the pointwise operators (Binary, Where, Expand): NumPy broadcasting, the collapsed
/// strided layout the broadcast kernels read (shaders/common/broadcast.glsl) and float views of
/// int64 constants. Not an operator itself.
/// </summary>
internal static class Elementwise
{
    /// <summary>Most axes a broadcast kernel walks after collapsing (broadcast.glsl's BROADCAST_MAX_RANK).</summary>
    public const int MaxRank = 6;

    /// <summary>Multidirectional (NumPy) broadcast of two shapes, or null when they are incompatible.</summary>
    public static int[]? Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1) return null;
            r[i] = da == 1 ? db : da; // 1 broadcasts to anything, 0 included (an empty result)
        }
        return r;
    }

    /// <summary>The broadcast shape of the given inputs; a mismatch names both shapes.</summary>
    public static TensorShape BroadcastInputs(OpContext c, IReadOnlyList<int> inputs)
    {
        var shape = c.InputShape(inputs[0]).Dimensions.ToArray();
        for (int k = 1; k < inputs.Count; k++)
        {
            var next = c.InputShape(inputs[k]);
            shape = Broadcast(shape, next.Dimensions) ?? throw c.Error(k == 1
                ? $"input {inputs[0]} {c.InputShape(inputs[0])} and input {inputs[1]} {next} cannot be broadcast together"
                : $"input {inputs[k]} {next} cannot be broadcast with {Format(shape)} (inputs {string.Join(", ", inputs.Take(k))} " +
                    $"broadcast)");
        }
        return new TensorShape(shape);
    }

    /// <summary>
    /// How a broadcast kernel walks the output: <see cref="Rank"/> collapsed axes with one
    /// (dim, stride…) row each, and <see cref="Invocations"/> (outputs, or vec4s of outputs when
    /// <see cref="Vec4"/>: the innermost dim is counted in vec4s, inputs read along it have
    /// stride 4, broadcast ones 0). A single axis of any length runs as vec4s with a scalar tail
    /// up to <see cref="Elements"/>; with more axes the innermost must be a multiple of 4.
    /// </summary>
    public sealed record Layout(int Rank, uint Invocations, uint Elements, bool Vec4, uint[] Axes)
    {
        /// <summary>Push-constant words: <c>uvec4 axes[6]</c> (dim, stride of input 0, 1, 2),
        /// invocations, elements, then <paramref name="tail"/>.</summary>
        public uint[] Push(params uint[] tail) => [.. Axes, Invocations, Elements, .. tail];
    }

    /// <summary>Collapses <paramref name="output"/> against up to three inputs that broadcast to it;
    /// null when it still has more than <see cref="MaxRank"/> axes.</summary>
    public static Layout? Plan(TensorShape output, IReadOnlyList<TensorShape> inputs, bool allowVec4)
    {
        if (inputs.Count > 3) throw new ArgumentException("A broadcast kernel reads at most 3 inputs.", nameof(inputs));
        int rank = output.Rank;
        // Per-input strides aligned to the output's axes, 0 where the input is broadcast.
        var strides = inputs.Select(s =>
        {
            var st = new long[rank];
            long step = 1;
            for (int d = rank - 1; d >= rank - s.Rank; d--)
            {
                int dim = s[d - (rank - s.Rank)];
                st[d] = dim == 1 ? 0 : step;
                step *= dim;
            }
            return st;
        }).ToArray();

        // Drop 1-dims and merge an axis into its outer neighbour when every input reads across both linearly.
        var axes = new List<(long Dim, long[] Stride)>();
        for (int d = 0; d < rank; d++)
        {
            if (output[d] == 1) continue;
            var s = strides.Select(st => st[d]).ToArray();
            if (axes.Count > 0)
            {
                var (outerDim, outer) = axes[^1];
                if (outer.Zip(s).All(p => p.First == p.Second * output[d]))
                {
                    axes[^1] = (outerDim * output[d], s);
                    continue;
                }
            }
            axes.Add((output[d], s));
        }
        if (axes.Count == 0) axes.Add((1, new long[inputs.Count]));
        if (axes.Count > MaxRank) return null;

        bool vec4 = allowVec4 && (axes[^1].Dim % 4 == 0 || axes.Count == 1);
        if (vec4) axes[^1] = ((axes[^1].Dim + 3) / 4, axes[^1].Stride.Select(s => s * 4).ToArray());
        var words = new uint[MaxRank * 4];
        for (int d = 0; d < axes.Count; d++)
        {
            words[d * 4] = checked((uint)axes[d].Dim);
            for (int k = 0; k < inputs.Count; k++) words[d * 4 + 1 + k] = checked((uint)axes[d].Stride[k]);
        }
        uint elements = checked((uint)output.ElementCount);
        return new Layout(axes.Count, vec4 ? (elements + 3) / 4 : elements, elements, vec4, words);
    }

    /// <summary><see cref="Plan"/>, or an unsupported-attribute error naming the shapes when too many axes remain.</summary>
    public static Layout PlanOrThrow(OpContext c, TensorShape output, IReadOnlyList<TensorShape> inputs, bool allowVec4) =>
        Plan(output, inputs, allowVec4) ?? throw c.Unsupported(
            $"broadcasting {string.Join(", ", inputs)} to {output} needs more than {MaxRank} axes after merging");

    /// <summary>
    /// How a backward kernel reduces dY over the axes an input was broadcast along (binary_backward):
    /// the output axes split into <see cref="Kept"/> ones (the input is read along them, its own index
    /// is the kept coordinate) and <see cref="Reduced"/> ones (the input has size 1), each collapsed,
    /// with per axis (dim, output stride, stride of the other operand). <see cref="Chunks"/> partial
    /// sums of <see cref="ChunkLength"/> positions per element keep a long reduction parallel.
    /// </summary>
    public sealed record Reduction(List<(long Dim, long Out, long Other)> Kept, List<(long Dim, long Out, long Other)> Reduced,
        long Count, uint Chunks, uint ChunkLength)
    {
        /// <summary>Most collapsed axes of each kind (binary_backward.comp's arrays).</summary>
        public const int MaxAxes = 4;
        /// <summary>Push constants: count, chunks, chunk_len, reduce, alpha, beta, scale, then 6 arrays of 4.</summary>
        public const int PushBytes = (7 + 6 * MaxAxes) * 4;
        // Below this many reduced positions one invocation per element sums them all; above it,
        // chunks of at least MinChunk positions until about TargetInvocations run.
        private const long SplitAbove = 512, MinChunk = 128, TargetInvocations = 16384;

        /// <summary>Plans the reduction of <paramref name="output"/>-shaped values onto <paramref name="input"/>
        /// (which broadcasts to it); <paramref name="other"/> is a second operand read at each position.</summary>
        public static Reduction Plan(OpContext c, TensorShape output, TensorShape input, TensorShape? other)
        {
            int rank = output.Rank;
            var outStrides = new long[rank];
            var otherStrides = new long[rank];
            long step = 1;
            for (int d = rank - 1; d >= 0; d--) { outStrides[d] = step; step *= output[d]; }
            if (other is { } o)
            {
                step = 1;
                for (int d = rank - 1; d >= rank - o.Rank; d--)
                {
                    int dim = o[d - (rank - o.Rank)];
                    otherStrides[d] = dim == 1 ? 0 : step;
                    step *= dim;
                }
            }
            var kept = new List<(long Dim, long Out, long Other)>();
            var reduced = new List<(long Dim, long Out, long Other)>();
            for (int d = 0; d < rank; d++)
            {
                if (output[d] == 1) continue;
                bool broadcast = d < rank - input.Rank || input[d - (rank - input.Rank)] == 1;
                var list = broadcast ? reduced : kept;
                var axis = (Dim: (long)output[d], Out: outStrides[d], Other: otherStrides[d]);
                // Merge into the previous axis of the same kind when both strides continue it linearly.
                if (list.Count > 0 && list[^1] is var prev && prev.Out == axis.Out * axis.Dim && prev.Other == axis.Other * axis.Dim)
                    list[^1] = (prev.Dim * axis.Dim, axis.Out, axis.Other);
                else
                    list.Add(axis);
            }
            if (kept.Count == 0) kept.Add((1, 0, 0));
            if (kept.Count > MaxAxes || reduced.Count > MaxAxes)
                throw c.Unsupported($"the gradient of {input} broadcast to {output} needs {kept.Count} kept and {reduced.Count} reduced " +
                    $"axes after merging; at most {MaxAxes} of each are supported");
            long count = reduced.Aggregate(1L, (a, r) => a * r.Dim);
            long chunks = 1;
            if (count > SplitAbove)
                chunks = Math.Clamp((TargetInvocations + input.ElementCount - 1) / input.ElementCount, 1, count / MinChunk);
            long length = (count + chunks - 1) / chunks;
            chunks = (count + length - 1) / length;
            return new Reduction(kept, reduced, count, checked((uint)chunks), checked((uint)length));
        }

        /// <summary>binary_backward's push-constant words for an input of <paramref name="elements"/> values.</summary>
        public uint[] Push(long elements, uint alpha, uint beta, uint scale)
        {
            var words = new uint[PushBytes / 4];
            words[0] = checked((uint)(elements * Chunks));
            words[1] = Chunks;
            words[2] = ChunkLength;
            words[3] = checked((uint)Count);
            (words[4], words[5], words[6]) = (alpha, beta, scale);
            for (int a = 0; a < Kept.Count; a++)
                (words[7 + a], words[11 + a], words[15 + a]) = (checked((uint)Kept[a].Dim), checked((uint)Kept[a].Out),
                    checked((uint)Kept[a].Other));
            for (int a = 0; a < Reduced.Count; a++)
                (words[19 + a], words[23 + a], words[27 + a]) = (checked((uint)Reduced[a].Dim), checked((uint)Reduced[a].Out),
                    checked((uint)Reduced[a].Other));
            return words;
        }
    }

    /// <summary>The GPU tensor of a float input; an int64 constant (a mask, a cast shape) is uploaded as float.</summary>
    public static Tensor FloatInput(OpBuildContext c, int index) =>
        c.Constant(index) is { IsInteger: true } k ? c.Weight($"in{index}", k.Shape, k.AsFloats()) : c.Input(index);

    public static string Format(ReadOnlySpan<int> dims) => $"[{string.Join(", ", dims.ToArray())}]";
}
