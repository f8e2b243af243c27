using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Embedding;

/// <summary>A session on a device, queue and buffers the host created, synchronised only by the host's semaphores.</summary>
[Collection(GpuCollection.Name)]
public sealed unsafe class EmbeddingTests
{
    [Fact]
    public void A_session_runs_on_a_host_device_with_host_buffers_and_semaphores()
    {
        int before = HostDevice.ValidationErrors;
        using (var host = new HostDevice())
        {
            const int n = 2 * 3 * 5;
            var (inBuffer, inPointer) = host.CreateBuffer(n);
            var (outBuffer, outPointer) = host.CreateBuffer(n);
            var input = Reference.Random(n, 77);
            input.CopyTo(new Span<float>((void*)inPointer, n));

            var graph = new IrGraph { Name = "embedded" };
            graph.Inputs.Add(new ValueInfo("x", [2, 3, 5]));
            graph.Nodes.Add(new Node("Relu", "relu", ["x"], ["r"]));
            graph.Nodes.Add(new Node("Sigmoid", "sigmoid", ["r"], ["s"]));
            graph.Nodes.Add(new Node("Flatten", "flatten", ["s"], ["y"], new Attributes().Set("axis", 1))); // the output is a view
            graph.Outputs.Add("y");

            using (var gpu = GpuDevice.FromExternal(new ExternalDevice(host.Instance.Handle, host.Physical.Handle, host.Device.Handle,
                host.Queue.Handle, host.Family),
                       new GpuDeviceOptions { DisablePipelineCache = true, Log = _ => { } }))
            {
                using var inWrap = GpuBuffer.WrapExternal(gpu, (nint)inBuffer.Handle, (ulong)n * 4, "host input");
                using var outWrap = GpuBuffer.WrapExternal(gpu, (nint)outBuffer.Handle, (ulong)n * 4, "host output");
                using var session = gpu.Compile(graph, options: new SessionOptions
                {
                    ExternalBuffers = new Dictionary<string, GpuBuffer> { ["x"] = inWrap, ["y"] = outWrap },
                });
                var ready = host.CreateSemaphore();
                var done = host.CreateSemaphore();
                var fence = host.CreateFence();
                host.SubmitEmpty(wait: null, signal: ready);                       // "the engine rendered the input"
                session.Submit([(nint)ready.Handle], [(nint)done.Handle]);          // the network waits for it
                host.SubmitEmpty(wait: done, signal: null, fence);                  // the engine consumes the output
                HostDevice.Check(host.Vk.WaitForFences(host.Device, 1, &fence, true, ulong.MaxValue));
                host.Vk.DestroyFence(host.Device, fence, null);

                var expected = input.Select(v => 1 / (1 + MathF.Exp(-MathF.Max(v, 0)))).ToArray();
                Tolerance.AssertClose(expected, new Span<float>((void*)outPointer, n), Tolerance.Op);
                Assert.Throws<InvalidOperationException>(() => session.Run(input));
            }
        }
        Assert.True(HostDevice.ValidationErrors == before, string.Join("\n", HostDevice.ValidationMessages));
    }
}
