using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>
/// vkcnn.BatchSlice (attributes start, count): images [start, start + count) of input 0 along axis 0, a zero-copy view of its
/// bytes. Only the compiler adds it (<see cref="Compiler.Passes.SplitOversizedActivations"/>), to read a tensor larger than one
/// storage-buffer binding in pieces.
/// </summary>
internal sealed class BatchSlice : IOperator, IPlacedView
{
    public const string OpType = "vkcnn.BatchSlice";

    public IReadOnlyList<string> OpTypes { get; } = [OpType];

    public OperatorTraits Traits(Node node) => OperatorTraits.View;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var x = c.InputShape(0);
        long start = c.Int("start", 0), count = c.Int("count", 0);
        if (x.Rank == 0 || start < 0 || count < 1 || start + count > x[0])
            throw c.Error($"images [{start}, {start + count}) are outside input {x}");
        var dims = x.Dimensions.ToArray();
        dims[0] = (int)count;
        return [dims];
    }

    public void Build(OpBuildContext context) { }

    public IEnumerable<(string Part, string Whole, long ElementOffset)> Placements(Node node,
        IReadOnlyDictionary<string, TensorShape> shapes)
    {
        var whole = shapes[node.Inputs[0]];
        yield return (node.Outputs[0], node.Inputs[0], node.Attributes.Int("start", 0) * (whole.ElementCount / whole[0]));
    }
}
