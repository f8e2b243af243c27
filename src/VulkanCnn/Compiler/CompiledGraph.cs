using VulkanCnn.Compiler.Passes;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Compiler;

/// <summary>What the optimisation passes did, for reports and tests.</summary>
public sealed record PassReport(int IdentitiesRemoved, int BatchNormsFolded, int ActivationsFused, int ConstantsFolded,
    int DeadNodesRemoved)
{
    /// <summary>Nodes whose outputs all hold zero elements, replaced by empty constants (done with or without optimisation).</summary>
    public int EmptyNodesRemoved { get; init; }

    /// <summary>Per-channel constant Mul/Add/Sub/Div after a Conv folded into its weights and bias.</summary>
    public int ScaleShiftsFolded { get; init; }

    /// <summary>Residual Adds computed in the epilogue of the Conv that produces one of their inputs.</summary>
    public int ResidualAddsFused { get; init; }

    /// <summary>Nodes whose constant weight exceeded one storage-buffer binding, split into pieces that each fit.</summary>
    public int WeightsSplit { get; init; }

    /// <summary>Nodes that read or write a value larger than one storage-buffer binding, run on the batch in pieces.</summary>
    public int NodesRunInBatchPieces { get; init; }
}

/// <summary>An optimised graph in execution order with every value's shape known.</summary>
internal sealed class CompiledGraph
{
    private CompiledGraph(Graph graph, IReadOnlyList<Node> order, Dictionary<string, TensorShape> shapes, PassReport passes,
        StoragePlan storage)
    {
        Graph = graph; Order = order; Shapes = shapes; Passes = passes; Storage = storage;
    }

    /// <summary>Each node's and value's storage type (all fp32 unless the session asked for fp16).</summary>
    public StoragePlan Storage { get; }

    public Graph Graph { get; }
    public IReadOnlyList<Node> Order { get; }
    public IReadOnlyDictionary<string, TensorShape> Shapes { get; }
    public PassReport Passes { get; }

    /// <summary>
    /// Checks every op and attribute first (one exception listing every problem, before any GPU
    /// work), runs the passes, then infers shapes in order. With <paramref name="fp16Unless"/>, nodes with fp16 kernels are stored in
    /// fp16 unless it returns a reason (<see cref="AssignStorage"/>).
    /// </summary>
    public static CompiledGraph Compile(Graph source, IReadOnlyDictionary<string, TensorShape> inputShapes, GpuDevice device, bool optimize,
        Func<Node, string?>? fp16Unless = null)
    {
        var graph = source.Clone();
        for (int i = 0; i < graph.Inputs.Count; i++)
            if (inputShapes.TryGetValue(graph.Inputs[i].Name, out var shape)) graph.Inputs[i] = graph.Inputs[i] with { Shape = shape };
        foreach (var name in inputShapes.Keys)
            if (graph.Inputs.All(i => i.Name != name))
                throw new ArgumentException($"Graph '{graph.Name}' has no input named '{name}'. Inputs: " +
                    $"{string.Join(", ", graph.Inputs.Select(i => i.Name))}.");
        // Inputs that also appear as initializers are inputs (ONNX allows overriding defaults).
        foreach (var input in graph.Inputs) graph.Initializers.Remove(input.Name);

        var unknown = graph.Nodes.Where(n => !OperatorRegistry.IsSupported(n.OpType)).Select(Describe).ToList();
        if (unknown.Count > 0) throw new UnsupportedOperatorException(unknown);
        graph.TopologicalOrder(); // cycles and dangling inputs fail here, before the passes

        PassReport passes = new(0, 0, 0, 0, 0);
        if (optimize)
        {
            int identities = RemoveIdentities.Run(graph);
            int dead = RemoveDeadNodes.Run(graph);
            int constants = FoldConstants.Run(graph, device);
            int bn = FoldBatchNorm.Run(graph);
            int scaleShifts = FoldConvScaleShift.Run(graph);
            int fused = FuseActivations.Run(graph);
            dead += RemoveDeadNodes.Run(graph);
            passes = new PassReport(identities, bn, fused, constants, dead) { ScaleShiftsFolded = scaleShifts };
        }
        var order = graph.TopologicalOrder();
        var shapes = InferShapes(graph, order);
        int empty = ResolveEmpty(graph, shapes);
        if (empty > 0) order = graph.TopologicalOrder();
        passes = passes with { EmptyNodesRemoved = empty };
        passes = passes with { WeightsSplit = SplitOversizedWeights.Run(graph, shapes, device.Info.Limits.MaxStorageBufferRange) };
        if (passes.WeightsSplit > 0) order = graph.TopologicalOrder();
        if (optimize)
        {
            passes = passes with { ResidualAddsFused = FuseResidualAdds.Run(graph, shapes) };
            if (passes.ResidualAddsFused > 0) order = graph.TopologicalOrder();
        }
        var storage = StoragePlan.AllFp32;
        if (fp16Unless is not null)
        {
            storage = AssignStorage.Run(graph, shapes, fp16Unless);
            order = graph.TopologicalOrder();
        }
        var nodeOrigin = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        var valueOrigin = new Dictionary<string, string>(StringComparer.Ordinal);
        passes = passes with
        {
            NodesRunInBatchPieces = SplitOversizedActivations.Run(graph, shapes, device.Info.Limits.MaxStorageBufferRange,
                device.Info.Limits.MinStorageBufferOffsetAlignment, nodeOrigin, valueOrigin),
        };
        if (passes.NodesRunInBatchPieces > 0)
        {
            order = graph.TopologicalOrder();
            storage = storage.WithPieces(nodeOrigin, valueOrigin);
        }
        CheckBindings(order, shapes, storage, graph, device);
        return new CompiledGraph(graph, order, shapes, passes, storage);
    }

    /// <summary>Every value a kernel binds fits one binding: else a typed error naming the largest such value, its node and why
    /// it could not run in pieces (weights are checked where they are uploaded).</summary>
    private static void CheckBindings(IReadOnlyList<Node> order, Dictionary<string, TensorShape> shapes, StoragePlan storage,
        Graph graph, GpuDevice device)
    {
        ulong limit = device.Info.Limits.MaxStorageBufferRange;
        ulong Bytes(string v) => (ulong)shapes[v].ElementCount * (ulong)storage.Of(v).SizeInBytes();
        foreach (var node in order)
        {
            var op = NodeKernels.Operator(node);
            if (op.Traits(node).HasFlag(OperatorTraits.View)) continue;
            var big = node.Inputs.Concat(node.Outputs)
                .Where(v => v.Length > 0 && shapes.ContainsKey(v) && !graph.Initializers.ContainsKey(v) && Bytes(v) > limit)
                .OrderByDescending(Bytes).FirstOrDefault();
            if (big is null) continue;
            string why = SplitOversizedActivations.MixesImages(node, op, shapes)
                ? $"{node.OpType} '{node.Name}' mixes the images of a batch, so it cannot run on the batch in pieces. " +
                    "Use a smaller batch or input size."
                : $"{node.OpType} '{node.Name}' could not run on the batch in pieces: one image (in steps keeping byte offsets " +
                    $"multiples of {device.Info.Limits.MinStorageBufferOffsetAlignment}) needs more than a quarter of the limit, or an " +
                    "input is broadcast along the batch. Use a smaller input size.";
            throw new TensorTooLargeException($"{big} {shapes[big]}", Bytes(big), limit, device.Info.Name, why);
        }
    }

    /// <summary>
    /// A node whose outputs all hold zero elements computes nothing: it is removed and its outputs
    /// become empty constants, so no empty value ever gets a buffer or a kernel. Nodes that read an
    /// empty value and produce a non-empty one stay (Concat skips empty parts; others refuse by name).
    /// </summary>
    private static int ResolveEmpty(Graph graph, IReadOnlyDictionary<string, TensorShape> shapes)
    {
        int removed = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            var outputs = node.Outputs.Where(o => o.Length > 0).ToList();
            if (outputs.Count == 0 || !outputs.All(o => shapes.TryGetValue(o, out var s) && s.IsEmpty)) continue;
            foreach (var o in outputs) graph.Initializers[o] = HostTensor.FromFloats(shapes[o], []);
            graph.Nodes.Remove(node);
            removed++;
        }
        return removed;
    }

    /// <summary>The compile-time value of <paramref name="name"/>: an initializer, or an empty value (known without running
    /// anything).</summary>
    internal HostTensor? ConstantOf(string name) =>
        name.Length == 0 ? null
        : Graph.Initializers.TryGetValue(name, out var c) ? c
        : Shapes.TryGetValue(name, out var s) && s.IsEmpty ? HostTensor.FromFloats(s, []) : null;

    internal static Dictionary<string, TensorShape> InferShapes(Graph graph, IReadOnlyList<Node> order)
    {
        var shapes = new Dictionary<string, TensorShape>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs) shapes[input.Name] = input.Shape;
        foreach (var (name, c) in graph.Initializers) shapes[name] = c.Shape;
        var unsupported = new List<string>();
        foreach (var node in order)
        {
            var inputShapes = node.Inputs.Select(i => i.Length > 0 && shapes.TryGetValue(i, out var s) ? s : null).ToList();
            if (inputShapes.Where((s, i) => s is null && node.HasInput(i)).Any()) continue; // after an unsupported node
            var constants = node.Inputs.Select(i => i.Length > 0 && graph.Initializers.TryGetValue(i, out var c) ? c : null).ToList();
            IReadOnlyList<TensorShape> outShapes;
            try { outShapes = NodeKernels.InferShapes(node, inputShapes, constants); }
            catch (UnsupportedAttributeException e) { unsupported.Add(e.Message); continue; }
            for (int k = 0; k < node.Outputs.Count && k < outShapes.Count; k++)
                if (node.Outputs[k].Length > 0) shapes[node.Outputs[k]] = outShapes[k];
        }
        if (unsupported.Count > 0) throw new UnsupportedOperatorException(unsupported);
        return shapes;
    }

    /// <summary>Quantized graphs are refused by name until int8 kernels exist.</summary>
    private static readonly HashSet<string> QuantizedOps =
        ["QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger",
         "QLinearAdd", "QLinearMul", "QLinearGlobalAveragePool", "QLinearConcat"];

    private static string Describe(Node n) => QuantizedOps.Contains(n.OpType)
        ? $"{n.OpType} (node '{n.Name}'): quantized (QDQ/int8) graphs are not supported yet; export the float model"
        : $"{n.OpType} (node '{n.Name}') is not implemented";
}
