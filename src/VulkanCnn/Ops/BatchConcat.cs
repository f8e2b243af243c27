using VulkanCnn.Ir;

namespace VulkanCnn.Ops;

/// <summary>
/// vkcnn.BatchConcat: its inputs, batch pieces in order, are written in place into consecutive images of output 0 (each input a
/// zero-copy view of the output's bytes), so the whole is never bound by a kernel. Only the compiler adds it.
/// </summary>
internal sealed class BatchConcat : IOperator, IPlacedView
{
    public const string OpType = "vkcnn.BatchConcat";

    public IReadOnlyList<string> OpTypes { get; } = [OpType];

    public OperatorTraits Traits(Node node) => OperatorTraits.View;

    public IReadOnlyList<TensorShape> InferShapes(OpContext c)
    {
        var first = c.InputShape(0);
        var dims = first.Dimensions.ToArray();
        for (int i = 1; i < c.Node.Inputs.Count; i++)
        {
            var piece = c.InputShape(i);
            if (piece.Rank != first.Rank || !piece.Dimensions[1..].SequenceEqual(first.Dimensions[1..]))
                throw c.Error($"piece {i} {piece} does not match piece 0 {first} past the batch axis");
            dims[0] += piece[0];
        }
        return [dims];
    }

    public void Build(OpBuildContext context) { }

    public IEnumerable<(string Part, string Whole, long ElementOffset)> Placements(Node node,
        IReadOnlyDictionary<string, TensorShape> shapes)
    {
        long offset = 0;
        foreach (var piece in node.Inputs)
        {
            yield return (piece, node.Outputs[0], offset);
            offset += shapes[piece].ElementCount;
        }
    }
}
