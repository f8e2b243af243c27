// The smallest embedding of the runtime: pick a GPU, multiply two matrices, check the result.
using VulkanCnn;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

const int M = 64, K = 32, N = 16;
var rng = new Random(1);
float[] aData = Enumerable.Range(0, M * K).Select(_ => rng.NextSingle()).ToArray();
float[] bData = Enumerable.Range(0, K * N).Select(_ => rng.NextSingle()).ToArray();

using var gpu = GpuDevice.CreateDefault();
Console.WriteLine($"Device: {gpu.Info.Name} ({gpu.Info.Type})");
using var a = Tensor.FromData(gpu, [M, K], aData, "a");
using var b = Tensor.FromData(gpu, [K, N], bData, "b");
using var c = Tensor.Create(gpu, [M, N], "c");
using var matmul = MatMul.Bind(a, b, c);
using var rec = new CommandRecording(gpu, "hello");
rec.Dispatch(matmul);
rec.Finish();
await rec.RunAsync(TimeSpan.FromSeconds(30));
float[] result = c.ToArray();

double expected = 0;
for (int k = 0; k < K; k++) expected += aData[k] * bData[k * N];
Console.WriteLine($"c[0,0] = {result[0]:0.00000} (CPU: {expected:0.00000})");
return Math.Abs(result[0] - expected) < 1e-4 ? 0 : 1;
