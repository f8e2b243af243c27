using System.Runtime.InteropServices;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>Transpose (perm, default reversed) as a gather kernel (shader <c>transpose</c>). Backward
/// (<c>transpose_backward</c>): dX += dY gathered through the inverse permutation.</summary>
internal sealed class Transpose : IOperator, IDifferentiable
{
    public IReadOnlyList<string> OpTypes { get; } = ["Transpose"];

    public OperatorTraits Traits(Node node) => OperatorTraits.Fp16Storage;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var input = c.InputShape(0);
        int[] perm = Perm(c, input.Rank);
        return [new TensorShape(perm.Select(a => input[a]).ToArray())];
    }

    public void Build(OpBuildContext c)
    {
        var input = c.InputShape(0);
        int[] perm = Perm(c, input.Rank);
        long[] inStrides = StridesOf(input);
        Gather(c, "transpose", c.Input(0), c.Output(0), 0,
            perm.Select(a => input[a]).ToArray(), perm.Select(a => inStrides[a]).ToArray());
    }

    public bool HasGradient(Node node, int inputIndex) => inputIndex == 0;

    public void BuildBackward(BackwardContext c)
    {
        if (c.InputGradient(0) is not { } dx || c.OutputGradient(0) is not { } dy) return;
        var input = c.InputShape(0);
        int[] perm = Perm(c, input.Rank);
        long[] dyStrides = StridesOf(dy.Shape);
        // dX axis perm[k] is dY axis k.
        var strides = new long[input.Rank];
        for (int k = 0; k < perm.Length; k++) strides[perm[k]] = dyStrides[k];
        Gather(c, "transpose_backward", dy, dx, 0, input.ToArray(), strides);
    }

    private static int[] Perm(OpContext c, int rank)
    {
        long[]? perm = c.Ints("perm");
        if (perm is null) return Enumerable.Range(0, rank).Reverse().ToArray();
        if (perm.Length != rank || perm.Any(a => a < 0 || a >= rank) || perm.Distinct().Count() != rank)
            throw c.Error($"perm [{string.Join(", ", perm)}] is not a permutation of the axes of input {c.InputShape(0)}");
        return perm.Select(a => (int)a).ToArray();
    }

    /// <summary>Row-major element strides of a shape.</summary>
    internal static long[] StridesOf(TensorShape shape)
    {
        var strides = new long[shape.Rank];
        long s = 1;
        for (int d = shape.Rank - 1; d >= 0; d--) { strides[d] = s; s *= shape[d]; }
        return strides;
    }

    /// <summary>
    /// Appends a strided-gather dispatch (shaders/common/strided_gather.glsl): output element i
    /// reads input[baseOffset + Σ coord_d(i)·strides[d]] over the output <paramref name="dims"/>
    /// (or, in a scatter such as slice_backward, element i of <paramref name="input"/> goes there).
    /// Size-1 axes are dropped and axes that stay contiguous are merged, so the kernel divides
    /// as little as possible and any rank whose layout reduces to 6 axes works.
    /// </summary>
    internal static void Gather(KernelSink c, string shader, Tensor input, Tensor output, long baseOffset, int[] dims, long[] strides)
    {
        var d = new List<long>();
        var s = new List<long>();
        for (int a = dims.Length - 1; a >= 0; a--)
        {
            if (dims[a] == 1) continue;
            // Outer axis a continues inner axis d[0] when its stride spans the whole inner axis.
            if (d.Count > 0 && strides[a] == s[0] * d[0]) { d[0] *= dims[a]; continue; }
            d.Insert(0, dims[a]);
            s.Insert(0, strides[a]);
        }
        if (d.Count == 0) { d.Add(1); s.Add(0); }
        if (d.Count > 6)
            throw c.Context.Unsupported($"the layout [{string.Join(", ", dims)}] does not reduce to 6 axes (it needs {d.Count})");

        long count = dims.Aggregate(1L, (a, b) => a * b);
        var push = new int[15];
        push[0] = checked((int)count);
        push[1] = checked((int)baseOffset);
        push[2] = d.Count;
        for (int a = 0; a < d.Count; a++)
        {
            push[3 + a] = checked((int)d[a]);
            push[9 + a] = checked((int)s[a]);
        }
        uint local = c.Device.DefaultWorkgroupSize;
        var pipeline = c.Pipeline(new PipelineKey(shader, 2, push.Length * 4, local));
        c.Dispatch(pipeline, [input, output], c.Grid1D(count, local), MemoryMarshal.AsBytes(push.AsSpan()));
    }
}
