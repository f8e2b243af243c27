using VulkanCnn.Ir;
using VulkanCnn.Ops;

namespace VulkanCnn.Compiler.Passes;

/// <summary>
/// A constant weight larger than one storage-buffer binding (the device's maxStorageBufferRange, or the lower
/// <see cref="Vulkan.GpuDeviceOptions.MaxBufferBytes"/>) is split along its output features into pieces that fit, each
/// its own initializer: the node becomes one node per piece and a Concat of their outputs along the feature axis.
/// Gemm (either transB), MatMul with a 2-D constant B, and Conv with group 1 (VGG's and AlexNet's 392 / 144 MiB
/// classifier weights on a 128 MiB device). A piece is sized at half the limit, after the padding its kernels' packed
/// layouts add (Gemm: columns to 4; Conv: output channels to 16, input channels to 4), so the packed copy fits too.
/// Runs on the shaped graph before the epilogue fusions, with or without optimisation: it is needed to run at all.
/// </summary>
internal static class SplitOversizedWeights
{
    public static int Run(Graph graph, Dictionary<string, TensorShape> shapes, ulong limitBytes)
    {
        int split = 0;
        ulong budget = limitBytes / 2;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!node.HasInput(1) || !graph.Initializers.TryGetValue(node.Inputs[1], out var w) || w.Floats is null) continue;
            if ((ulong)w.Shape.ElementCount * sizeof(float) <= limitBytes) continue;
            if (node.Outputs.Count != 1 || !shapes.TryGetValue(node.Outputs[0], out var y)) continue;
            bool done = node.OpType switch
            {
                "Gemm" => SplitGemm(graph, shapes, node, w, y, budget),
                "MatMul" when w.Shape.Rank == 2 => SplitColumns(graph, shapes, node, w, y, transposed: false, budget, bias: null),
                "Conv" when node.Attributes.Int("group", 1) == 1 && w.Shape.Rank == 4 && y.Rank == 4 => SplitConv(graph, shapes, node, w, y,
                    budget),
                _ => false,
            };
            if (done) split++;
        }
        return split;
    }

    private static bool SplitGemm(Graph graph, Dictionary<string, TensorShape> shapes, Node node, HostTensor w, TensorShape y,
        ulong budget)
    {
        bool transB = node.Attributes.Int("transB", 0) != 0;
        string? bias = node.HasInput(2) ? node.Inputs[2] : null;
        return SplitColumns(graph, shapes, node, w, y, transB, budget, bias);
    }

    /// <summary>Y = A·B (+ C): B [K, N] (or [N, K] when <paramref name="transposed"/>) in column blocks of whole vec4s; a C
    /// that varies along N is cut with it (it must be constant), one that broadcasts along N is shared.</summary>
    private static bool SplitColumns(Graph graph, Dictionary<string, TensorShape> shapes, Node node, HostTensor w, TensorShape y,
        bool transposed, ulong budget, string? bias)
    {
        int k = transposed ? w.Shape[1] : w.Shape[0], n = transposed ? w.Shape[0] : w.Shape[1];
        long perColumn = (long)k * sizeof(float);
        int width = (int)Math.Min(n, (long)(budget / (ulong)perColumn) / 4 * 4);
        if (width < 4 || width >= n) return false;
        HostTensor? c = null;
        if (bias is not null && shapes.TryGetValue(bias, out var cShape) && cShape.Rank > 0 && cShape[-1] == n && n > 1)
            if (!graph.Initializers.TryGetValue(bias, out c) || c.Floats is null) return false;

        var ranges = Ranges(n, width, 4);
        var outputs = new List<string>();
        foreach (var (start, count) in ranges)
        {
            var piece = new float[(long)k * count];
            for (int j = 0; j < count; j++)
                for (int kk = 0; kk < k; kk++)
                    if (transposed) piece[(long)j * k + kk] = w.Floats![(long)(start + j) * k + kk];
                    else piece[(long)kk * count + j] = w.Floats![(long)kk * n + start + j];
            var inputs = new List<string>(node.Inputs);
            inputs[1] = AddInitializer(graph, shapes, node.Inputs[1], start,
                HostTensor.FromFloats(transposed ? [count, k] : [k, count], piece));
            if (c is not null) inputs[2] = AddInitializer(graph, shapes, bias!, start, SliceLast(c, start, count));
            outputs.Add(AddPiece(graph, shapes, node, inputs, y, y.Rank - 1, start, count));
        }
        Finish(graph, node, outputs, y.Rank - 1);
        return true;
    }

    /// <summary>Conv W [M, C, KH, KW] in blocks of whole 16-channel tiles; the bias is cut with it.</summary>
    private static bool SplitConv(Graph graph, Dictionary<string, TensorShape> shapes, Node node, HostTensor w, TensorShape y, ulong budget)
    {
        if (node.Inputs.Count > 3) return false; // a fused residual input: only the epilogue fusion adds one, after this pass
        int m = w.Shape[0];
        long perChannel = (long)(w.Shape[1] + 3) / 4 * 4 * w.Shape[2] * w.Shape[3] * sizeof(float);
        int width = (int)Math.Min(m, (long)(budget / (ulong)perChannel) / ConvKernels.GemmChannels * ConvKernels.GemmChannels);
        if (width < ConvKernels.GemmChannels || width >= m) return false;
        HostTensor? b = null;
        if (node.HasInput(2) && (!graph.Initializers.TryGetValue(node.Inputs[2], out b) || b.Floats is null)) return false;

        long perOutput = w.Shape.ElementCount / m;
        var outputs = new List<string>();
        foreach (var (start, count) in Ranges(m, width, ConvKernels.GemmChannels))
        {
            var piece = w.Floats!.AsSpan().Slice((int)(start * perOutput), (int)(count * perOutput)).ToArray();
            var inputs = new List<string>(node.Inputs);
            inputs[1] = AddInitializer(graph, shapes, node.Inputs[1], start,
                HostTensor.FromFloats([count, w.Shape[1], w.Shape[2], w.Shape[3]], piece));
            if (b is not null) inputs[2] = AddInitializer(graph, shapes, node.Inputs[2], start, SliceLast(b, start, count));
            outputs.Add(AddPiece(graph, shapes, node, inputs, y, 1, start, count));
        }
        Finish(graph, node, outputs, 1);
        return true;
    }

    /// <summary>[0, n) in pieces of at most <paramref name="width"/>, balanced and in multiples of <paramref name="block"/>.</summary>
    private static List<(int Start, int Count)> Ranges(int n, int width, int block)
    {
        int pieces = (n + width - 1) / width;
        int even = ((n + pieces - 1) / pieces + block - 1) / block * block;
        var ranges = new List<(int, int)>();
        for (int start = 0; start < n; start += even) ranges.Add((start, Math.Min(even, n - start)));
        return ranges;
    }

    private static HostTensor SliceLast(HostTensor t, int start, int count)
    {
        int last = t.Shape[-1], rows = (int)(t.Shape.ElementCount / last);
        var data = new float[(long)rows * count];
        for (int r = 0; r < rows; r++) Array.Copy(t.Floats!, (long)r * last + start, data, (long)r * count, count);
        var dims = t.Shape.Dimensions.ToArray();
        dims[^1] = count;
        return HostTensor.FromFloats(dims, data);
    }

    private static string AddInitializer(Graph graph, Dictionary<string, TensorShape> shapes, string name, int start, HostTensor value)
    {
        string piece = GraphEdit.FreshInitializer(graph, $"{name}.from{start}");
        graph.Initializers[piece] = value;
        shapes[piece] = value.Shape;
        return piece;
    }

    private static string AddPiece(Graph graph, Dictionary<string, TensorShape> shapes, Node node, List<string> inputs, TensorShape y,
        int axis, int start, int count)
    {
        string output = $"{node.Outputs[0]}.from{start}";
        while (shapes.ContainsKey(output)) output += "'";
        var dims = y.Dimensions.ToArray();
        dims[axis] = count;
        shapes[output] = dims;
        graph.Nodes.Add(new Node(node.OpType, $"{node.Name}/from{start}", inputs, [output], node.Attributes.Clone()));
        return output;
    }

    /// <summary>The pieces' outputs concatenate into the node's output; the whole weight (and a cut bias) go when nothing else
    /// reads them.</summary>
    private static void Finish(Graph graph, Node node, List<string> outputs, int axis)
    {
        graph.Nodes.Add(new Node("Concat", $"{node.Name}/concat", outputs, [node.Outputs[0]], new Attributes().Set("axis", axis)));
        graph.Nodes.Remove(node);
        foreach (var input in node.Inputs.Skip(1).Where(i => i.Length > 0 && graph.Initializers.ContainsKey(i)))
            if (!graph.Nodes.Any(n => n.Inputs.Contains(input)) && !graph.Outputs.Contains(input)) graph.Initializers.Remove(input);
    }
}
