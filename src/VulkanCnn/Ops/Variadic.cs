namespace VulkanCnn.Ops;

/// <summary>ONNX Max, Min, Sum and Mean over 1..N inputs with NumPy broadcasting: the <c>binary</c> kernel chained pairwise in
/// place on the output (Mean scales in the last step). Backward: Max/Min ties share the gradient evenly (torch.maximum).</summary>
internal sealed class Variadic() : BroadcastOp(["Max", "Min", "Sum", "Mean"]);
