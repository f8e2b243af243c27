using VulkanCnn.Ir;
using VulkanCnn.Ops;

namespace VulkanCnn.Compiler.Passes;

/// <summary>
/// A node that reads or writes a value larger than one storage-buffer binding runs on the batch in pieces, when its operator
/// computes each sample alone (<see cref="IOperator.PerSampleInputs"/>): each piece reads images [start, start + count) of the
/// per-sample inputs through a vkcnn.BatchSlice and writes its outputs' images into place through a vkcnn.BatchConcat, both
/// zero-copy views at byte offsets of the whole, so the whole is never bound at once (the arena and graph-input/output buffers
/// may be larger than one binding). Pieces hold as many images as fit, in steps that keep every piece's byte offset a multiple
/// of <c>alignment</c> in fp16 and fp32 storage, each tensor of a piece within a quarter of the limit (the rest is room for the
/// kernels' scratch). Runs last but for the storage assignment.
/// </summary>
internal static class SplitOversizedActivations
{
    /// <param name="graph">The shaped graph, rewritten in place.</param>
    /// <param name="shapes">Every value's shape; receives the pieces'.</param>
    /// <param name="limitBytes">The largest binding.</param>
    /// <param name="alignment">minStorageBufferOffsetAlignment.</param>
    /// <param name="nodeOrigin">Receives each piece node's original.</param>
    /// <param name="valueOrigin">Receives each piece value's whole.</param>
    public static int Run(Graph graph, Dictionary<string, TensorShape> shapes, ulong limitBytes, ulong alignment,
        Dictionary<Node, Node> nodeOrigin, Dictionary<string, string> valueOrigin)
    {
        int split = 0;
        alignment = Math.Max(16, alignment);
        var slices = new Dictionary<(string, int, int), string>();
        bool Oversized(string v) => v.Length > 0 && !graph.Initializers.ContainsKey(v) && shapes.TryGetValue(v, out var s)
            && (ulong)s.ElementCount * sizeof(float) > limitBytes;
        foreach (var node in graph.TopologicalOrder())
        {
            if (!node.Inputs.Any(Oversized) && !node.Outputs.Any(Oversized)) continue;
            var op = NodeKernels.Operator(node);
            if (op.Traits(node).HasFlag(OperatorTraits.View) || MixesImages(node, op, shapes)) continue;
            var perSample = op.PerSampleInputs(node)!;
            var outputs = node.Outputs.Where(o => o.Length > 0).ToList();
            var y = shapes[outputs[0]];
            int batch = y.Rank > 0 ? y[0] : 0;
            if (batch < 2 || outputs.Any(o => shapes[o].Rank != y.Rank || shapes[o][0] != batch)) continue;
            var sliced = perSample.Where(i => node.HasInput(i) && shapes[node.Inputs[i]] is { Rank: > 0 } s && s.Rank == y.Rank
                && s[0] == batch).ToList();
            var perImage = sliced.Select(i => shapes[node.Inputs[i]]).Concat(outputs.Select(o => shapes[o]))
                .Select(s => s.ElementCount / batch).ToList();
            // A quarter of the limit leaves room for the kernels' own scratch of the piece (Conv's packed input: channels padded
            // to 4 and the borders written out).
            if (Count(perImage, limitBytes / 4, alignment) is not { } count || count >= batch) continue;

            var pieces = outputs.ToDictionary(o => o, _ => new List<string>());
            var built = new List<Node>();
            var newSlices = new Dictionary<(string, int, int), string>(slices);
            var constants = new List<string>();
            for (int start = 0; start < batch; start += count)
            {
                int n = Math.Min(count, batch - start);
                var inputs = new List<string>(node.Inputs);
                foreach (int i in sliced)
                    if (graph.Initializers.TryGetValue(node.Inputs[i], out var constant))
                    {
                        constants.Add(inputs[i] = ConstantPiece(graph, shapes, node.Inputs[i], constant, start, n));
                        valueOrigin[inputs[i]] = node.Inputs[i];   // stored as the constant it is cut from
                    }
                    else inputs[i] = Slice(shapes, newSlices, node.Inputs[i], start, n, built);
                var pieceOutputs = node.Outputs.Select(o => o.Length == 0 ? "" : Fresh(shapes, $"{o}.images{start}")).ToList();
                var piece = new Node(node.OpType, $"{node.Name}/images{start}", inputs, pieceOutputs, node.Attributes.Clone());
                if (Infer(graph, shapes, piece) is not { } inferred) goto Abandon;
                for (int k = 0; k < node.Outputs.Count; k++)
                {
                    if (node.Outputs[k].Length == 0) continue;
                    var expected = shapes[node.Outputs[k]].Dimensions.ToArray();
                    expected[0] = n;
                    if (inferred[k] != new TensorShape(expected)) goto Abandon; // an input broadcast along the batch
                    shapes[pieceOutputs[k]] = inferred[k];
                    pieces[node.Outputs[k]].Add(pieceOutputs[k]);
                }
                built.Add(piece);
                nodeOrigin[piece] = node;
                for (int k = 0; k < node.Outputs.Count; k++) if (node.Outputs[k].Length > 0) valueOrigin[pieceOutputs[k]] = node.Outputs[k];
            }
            foreach (var (key, value) in newSlices)
            {
                slices[key] = value;
                valueOrigin[value] = key.Item1;
            }
            graph.Nodes.Remove(node);
            graph.Nodes.AddRange(built);
            foreach (var o in outputs) graph.Nodes.Add(new Node(BatchConcat.OpType, $"{node.Name}/{o}.whole", pieces[o], [o]));
            split++;
            continue;
        Abandon:
            foreach (var c in constants) graph.Initializers.Remove(c);
        }
        return split;
    }

    /// <summary>Whether the node's outputs for one image depend on other images: its operator says so, or its "axis" attribute
    /// (Softmax, Concat …) is the batch axis.</summary>
    public static bool MixesImages(Node node, IOperator op, IReadOnlyDictionary<string, TensorShape> shapes)
    {
        if (op.PerSampleInputs(node) is null || node.Outputs.FirstOrDefault(o => o.Length > 0) is not { } output) return true;
        int rank = shapes[output].Rank;
        return node.Attributes.Has("axis") && node.Attributes.Int("axis", 1) is var axis && (axis < 0 ? axis + rank : axis) == 0;
    }

    /// <summary>The most images per piece whose tensors each fit the limit and whose byte offsets stay aligned; null when not
    /// even the smallest aligned step fits.</summary>
    private static int? Count(List<long> perImage, ulong limitBytes, ulong alignment)
    {
        long step = 1;
        foreach (long elements in perImage)
        {
            long bytes = elements * 2; // fp16: the smaller element, so fp32 offsets are aligned too
            long need = (long)alignment / (long)System.Numerics.BigInteger.GreatestCommonDivisor(alignment, (ulong)bytes);
            step = step / (long)System.Numerics.BigInteger.GreatestCommonDivisor(step, need) * need;
        }
        long fit = (long)(limitBytes / ((ulong)perImage.Max() * sizeof(float)));
        long count = fit / step * step;
        return count >= 1 ? (int)Math.Min(count, int.MaxValue) : null;
    }

    /// <summary>The piece's output shapes, or null where it does not infer (a piece of a node that is not per-sample after all).
    /// </summary>
    private static IReadOnlyList<TensorShape>? Infer(Graph graph, Dictionary<string, TensorShape> shapes, Node piece)
    {
        try
        {
            return NodeKernels.InferShapes(piece, piece.Inputs.Select(i => i.Length > 0 ? shapes[i] : null).ToList(),
                piece.Inputs.Select(i => i.Length > 0 ? graph.Initializers.GetValueOrDefault(i) : null).ToList());
        }
        catch (GraphException) { return null; }
    }

    private static string Slice(Dictionary<string, TensorShape> shapes, Dictionary<(string, int, int), string> slices,
        string value, int start, int count, List<Node> built)
    {
        if (slices.TryGetValue((value, start, count), out var name)) return name;
        name = Fresh(shapes, $"{value}.images{start}");
        var dims = shapes[value].Dimensions.ToArray();
        dims[0] = count;
        shapes[name] = dims;
        built.Add(new Node(BatchSlice.OpType, $"{value}/images{start}", [value], [name],
            new Attributes().Set("start", start).Set("count", count)));
        return slices[(value, start, count)] = name;
    }

    /// <summary>Images [start, start + count) of a constant with one item per image (a Gemm's per-row C): a new initializer.</summary>
    private static string ConstantPiece(Graph graph, Dictionary<string, TensorShape> shapes, string name, HostTensor constant, int start,
        int count)
    {
        string piece = GraphEdit.FreshInitializer(graph, $"{name}.images{start}");
        long perImage = constant.Shape.ElementCount / constant.Shape[0];
        var dims = constant.Shape.Dimensions.ToArray();
        dims[0] = count;
        graph.Initializers[piece] = constant.Floats is { } f
            ? HostTensor.FromFloats(dims, f.AsSpan((int)(start * perImage), (int)(count * perImage)).ToArray())
            : HostTensor.FromInts(dims, constant.Ints!.AsSpan((int)(start * perImage), (int)(count * perImage)).ToArray());
        shapes[piece] = dims;
        return piece;
    }

    private static string Fresh(Dictionary<string, TensorShape> shapes, string name)
    {
        while (shapes.ContainsKey(name)) name += "'";
        return name;
    }
}
