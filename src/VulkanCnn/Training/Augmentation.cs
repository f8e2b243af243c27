using System.Runtime.InteropServices;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Training;

/// <summary>
/// Training augmentation done on the GPU (shader <c>augment</c>): random crop with zero padding
/// (a translation of up to <see cref="Padding"/> pixels) and horizontal flips, drawn per sample
/// from (seed, step, sample index). <see cref="Fill"/> is the value of padded pixels (the
/// normalised value of black, so padding looks like a black border).
/// </summary>
public sealed record Augmentation(int Padding = 0, bool HorizontalFlip = false, int Seed = 0, float Fill = 0)
{
    public bool IsIdentity => Padding == 0 && !HorizontalFlip;

    /// <summary>Binds the kernel: NCHW <paramref name="source"/> → <paramref name="destination"/>, step read from <paramref name="step"/>
    /// (int32).</summary>
    public BoundKernel Bind(Tensor source, Tensor destination, Tensor step)
    {
        if (source.Shape != destination.Shape || source.Shape.Rank != 4)
            throw new ArgumentException($"Augmentation needs equal NCHW shapes; got {source.Shape} and {destination.Shape}.");
        ArgumentOutOfRangeException.ThrowIfNegative(Padding);
        var device = source.Device;
        uint local = device.DefaultWorkgroupSize;
        var pipeline = device.GetPipeline(new PipelineKey("augment", 3, 32, local));
        var s = source.Shape;
        var push = new Push((uint)s.ElementCount, (uint)s[1], (uint)s[2], (uint)s[3], Padding, HorizontalFlip ? 1u : 0u, (uint)Seed, Fill);
        var (x, y) = device.Grid1D(s.ElementCount, local);
        return new BoundKernel(pipeline, [source.Range, destination.Range, step.Range], (x, y, 1),
            MemoryMarshal.AsBytes(new ReadOnlySpan<Push>(in push)), "augment");
    }

    private readonly record struct Push(uint Count, uint Channels, uint Height, uint Width, int Pad, uint Flip, uint Seed, float Fill);
}
