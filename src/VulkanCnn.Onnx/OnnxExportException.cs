using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Onnx;

/// <summary>
/// A graph that cannot be written as an ONNX model of the exporter's opset: an op type with no
/// ONNX counterpart, or an attribute value the opset cannot express. Names the node.
/// </summary>
public sealed class OnnxExportException : GraphException
{
    public OnnxExportException(Node node, string message) : base(node, message) { }

    public OnnxExportException(string message) : base(message) { }
}
