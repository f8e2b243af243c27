using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Onnx;

/// <summary>
/// An ONNX file that cannot be imported: not a model, truncated, inconsistent (a tensor whose data
/// does not match its dims, a cycle, a dangling input) or unsafe (external data outside the
/// model's folder). Names the file and, where there is one, the tensor or node.
/// </summary>
public sealed class OnnxImportException : GraphException
{
    public OnnxImportException(string file, string message, string? tensor = null, string? node = null, Exception? inner = null)
        : base(Compose(file, message, tensor, node))
    {
        File = file;
        Tensor = tensor;
        Node = node;
        Inner = inner;
    }

    /// <summary>The model file (or "&lt;stream&gt;").</summary>
    public string File { get; }
    /// <summary>The tensor (initializer, Constant value, external data) at fault, if any.</summary>
    public string? Tensor { get; }
    /// <summary>The node at fault, if any.</summary>
    public string? Node { get; }
    /// <summary>The parser's own exception, if any (kept here: GraphException has no inner-exception constructor).</summary>
    public Exception? Inner { get; }

    private static string Compose(string file, string message, string? tensor, string? node) =>
        $"{file}: " + (tensor is not null ? $"tensor '{tensor}': " : "") + (node is not null ? $"node '{node}': " : "") + message;
}
