using System.Runtime.InteropServices;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Vulkan;

public sealed class PipelineCacheTests : GpuTest
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vkcnn-cache-test-" + Guid.NewGuid().ToString("N"));
    private static readonly PipelineKey Relu = new("unary", 2, 12, 64) { Activation = (uint)ActivationKind.Relu, Constants = [0] };

    public PipelineCacheTests(GpuFixture gpu) : base(gpu) { }

    private (PipelineCacheStatus Status, string? Path) Build(PipelineKey description, string? dir = null)
    {
        var cache = new PipelineDiskCache(Device, dir ?? _dir);
        var pipeline = new ComputePipeline(Device, description, cache);
        try
        {
            return (pipeline.CacheStatus, pipeline.CachePath);
        }
        finally { pipeline.Destroy(); }
    }

    [Fact]
    public void Second_creation_hits_the_file_the_first_wrote_and_the_pipeline_runs()
    {
        var (first, path) = Build(Relu);
        Assert.Equal(PipelineCacheStatus.Miss, first);
        Assert.True(File.Exists(path));
        Assert.Equal(PipelineCacheStatus.Hit, Build(Relu).Status);

        // A pipeline seeded from the cache computes the right thing.
        var pipeline = new ComputePipeline(Device, Relu, new PipelineDiskCache(Device, _dir));
        try
        {
            Assert.Equal(PipelineCacheStatus.Hit, pipeline.CacheStatus);
            using var x = Tensor.FromData(Device, [3], [-1f, 2f, -3f]);
            using var y = Tensor.Create(Device, [3]);
            ReadOnlySpan<uint> push = [3u, 0u, 0u];
            using var kernel = new BoundKernel(pipeline, [x.Buffer, y.Buffer], (1, 1, 1), MemoryMarshal.AsBytes(push));
            using var rec = new CommandRecording(Device, "cached relu");
            rec.Dispatch(kernel);
            rec.Finish();
            rec.Run();
            Assert.Equal([0f, 2f, 0f], y.ToArray());
        }
        finally { pipeline.Destroy(); }
    }

    [Fact]
    public void Specialisation_constants_are_part_of_the_key()
    {
        var (_, a) = Build(Relu);
        var (status, b) = Build(Relu with { LocalX = 32 });
        Assert.Equal(PipelineCacheStatus.Miss, status);
        Assert.NotEqual(a, b);
    }

    public static TheoryData<string> Corruptions =>
        new() { "truncated", "empty", "magic", "payload-bit", "foreign-device", "garbage", "driver-header" };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void A_corrupt_or_foreign_file_is_discarded_and_rebuilt(string corruption)
    {
        var (_, path) = Build(Relu);
        byte[] good = File.ReadAllBytes(path!);
        byte[] bad = (byte[])good.Clone();
        switch (corruption)
        {
            case "truncated": bad = good[..(good.Length / 2)]; break;
            case "empty": bad = []; break;
            case "magic": bad[0] ^= 0xFF; break;
            case "payload-bit": bad[^1] ^= 0x01; break;
            case "foreign-device": bad[24] ^= 0x5A; break;           // device UUID in the header
            case "garbage": bad = Reference.Random(300, 11).SelectMany(BitConverter.GetBytes).ToArray(); break;
            case "driver-header": bad = Reforge(good, blob => blob[8] ^= 0x01); break; // driver blob's vendorID, checksum recomputed
        }
        File.WriteAllBytes(path!, bad);

        Assert.Equal(PipelineCacheStatus.Discarded, Build(Relu).Status);
        Assert.Equal(PipelineCacheStatus.Hit, Build(Relu).Status);
    }

    [Fact]
    public void Disabled_cache_writes_nothing()
    {
        var cache = new PipelineDiskCache(Device, null);
        var pipeline = new ComputePipeline(Device, Relu, cache);
        pipeline.Destroy();
        Assert.Equal(PipelineCacheStatus.Disabled, pipeline.CacheStatus);
        Assert.False(Directory.Exists(_dir));
    }

    [Fact]
    public void An_unwritable_cache_folder_is_logged_not_thrown()
    {
        Directory.CreateDirectory(_dir);
        string notADirectory = Path.Combine(_dir, "file");
        File.WriteAllText(notADirectory, "x");
        var (status, _) = Build(Relu, notADirectory);
        Assert.Equal(PipelineCacheStatus.Miss, status);
    }

    /// <summary>Rewrites the driver blob inside a valid file and fixes the file checksum, so only the driver-header check can catch
    /// it.</summary>
    private byte[] Reforge(byte[] file, Action<byte[]> mutate)
    {
        const int header = 128;
        byte[] blob = file[header..];
        if (blob.Length < 32) return file[..^1]; // a driver without a blob: fall back to a plain corruption
        mutate(blob);
        var cache = new PipelineDiskCache(Device, _dir);
        return cache.Serialize(blob, file[56..88]);
    }

    public override void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (DirectoryNotFoundException) { }
        base.Dispose();
    }
}
