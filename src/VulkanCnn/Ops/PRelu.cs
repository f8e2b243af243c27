namespace VulkanCnn.Ops;

/// <summary>ONNX PRelu: x where x ≥ 0, else slope·x, the slope unidirectionally broadcast to X (the <c>binary</c> kernel).</summary>
internal sealed class PRelu() : BroadcastOp(["PRelu"]);
