// The smallest embedding of the runtime: pick a GPU, compile a one-node graph, run it, check it.
using VulkanCnn;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

const int M = 64, K = 32, N = 16;
var rng = new Random(1);
float[] aData = Enumerable.Range(0, M * K).Select(_ => rng.NextSingle()).ToArray();
float[] bData = Enumerable.Range(0, K * N).Select(_ => rng.NextSingle()).ToArray();

var graph = new Graph { Name = "hello" };
graph.Inputs.Add(new ValueInfo("a", [M, K]));
graph.Initializers["b"] = HostTensor.FromFloats([K, N], bData);
graph.Nodes.Add(new Node("MatMul", "matmul", ["a", "b"], ["c"]));
graph.Outputs.Add("c");

using var gpu = GpuDevice.CreateDefault();
Console.WriteLine($"Device: {gpu.Info.Name} ({gpu.Info.Type})");
using var session = gpu.Compile(graph);
var result = new float[M * N];
await session.RunAsync(aData, result);

double expected = 0;
for (int k = 0; k < K; k++) expected += aData[k] * bData[k * N];
Console.WriteLine($"c[0,0] = {result[0]:0.00000} (CPU: {expected:0.00000})");
return Math.Abs(result[0] - expected) < 1e-4 ? 0 : 1;
