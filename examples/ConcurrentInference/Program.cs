// Many callers share one session with RunAsync (a web service, a game's worker tasks): calls
// queue without blocking threads, so even a thread pool capped at 2 threads serves them all.
// Usage: ConcurrentInference [calls=64] [maxPoolThreads=2]   (exit code 0 = every result correct)
using VulkanCnn;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

int calls = args.Length > 0 ? int.Parse(args[0]) : 64;
int maxThreads = args.Length > 1 ? int.Parse(args[1]) : 2;
ThreadPool.SetMinThreads(1, 1);
if (!ThreadPool.SetMaxThreads(maxThreads, maxThreads)) { Console.Error.WriteLine($"cannot cap the pool at {maxThreads}"); return 2; }

// y = sigmoid(relu(x)) over [1, 3, 8, 8]
var graph = new Graph { Name = "concurrent" };
graph.Inputs.Add(new ValueInfo("x", [1, 3, 8, 8]));
graph.Nodes.Add(new Node("Relu", "relu", ["x"], ["r"]));
graph.Nodes.Add(new Node("Sigmoid", "sigmoid", ["r"], ["y"]));
graph.Outputs.Add("y");

using var gpu = GpuDevice.CreateDefault();
using var session = gpu.Compile(graph);
var rng = new Random(1);
var inputs = Enumerable.Range(0, calls).Select(_ => Enumerable.Range(0, 192).Select(_ => rng.NextSingle() * 4 - 2).ToArray()).ToList();
var outputs = inputs.Select(_ => new float[192]).ToList();

var all = Task.WhenAll(Enumerable.Range(0, calls).Select(i => Task.Run(() => session.RunAsync(inputs[i], outputs[i]))));
if (!all.Wait(TimeSpan.FromSeconds(120))) { Console.Error.WriteLine("timed out"); return 3; }

int wrong = 0;
for (int i = 0; i < calls; i++)
    for (int k = 0; k < 192; k++)
        if (Math.Abs(outputs[i][k] - 1 / (1 + MathF.Exp(-MathF.Max(inputs[i][k], 0)))) > 1e-4f) { wrong++; break; }
Console.WriteLine($"{calls} concurrent RunAsync calls on {gpu.Info.Name} with the pool capped at {maxThreads} threads: {calls - wrong} " +
    $"correct, {wrong} wrong");
return wrong == 0 ? 0 : 1;
