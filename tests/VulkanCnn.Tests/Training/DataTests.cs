using System.IO.Compression;
using VulkanCnn.Training.Data;

namespace VulkanCnn.Tests.Training;

public sealed class DataTests
{
    [Fact]
    public void Fashion_mnist_loads_with_normalised_pixels_and_known_labels()
    {
        var test = FashionMnist.Load(train: false, limit: 100);
        Assert.Equal(100, test.Count);
        Assert.Equal(new TensorShape(1, 28, 28), test.SampleShape);
        var x = new float[784];
        Assert.Equal(9, test.Read(0, x)); // the first test image is an ankle boot
        Assert.Equal(2, test.Read(1, x)); // then a pullover
        Assert.All(x, v =>
            Assert.InRange(v, -FashionMnist.Mean / FashionMnist.Std - 1e-5, (1 - FashionMnist.Mean) / FashionMnist.Std + 1e-5));
        Assert.Equal("Ankle boot", test.ClassNames[9]);
        var train = FashionMnist.Load(train: true, limit: 10);
        Assert.Equal(9, train.Read(0, x));
    }

    [Fact]
    public void Missing_or_broken_files_are_clear_errors()
    {
        var missing = Assert.Throws<DatasetException>(() => FashionMnist.Load(false, "/nonexistent/fmnist"));
        Assert.Contains("dataset-fashion-mnist", missing.Message);
        string dir = Path.Combine(Path.GetTempPath(), "vkcnn-fmnist-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using (var f = File.Create(Path.Combine(dir, "t10k-images-idx3-ubyte.gz")))
            using (var gz = new GZipStream(f, CompressionLevel.Fastest))
                gz.Write([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3]); // claims 5 images, holds 3 bytes
            File.Copy(Path.Combine(FashionMnist.DefaultDirectory, "t10k-labels-idx1-ubyte.gz"),
                Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
            var truncated = Assert.Throws<DatasetException>(() => FashionMnist.Load(false, dir));
            Assert.Contains("truncated", truncated.Message);
            File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), [1, 2, 3, 4]);
            Assert.Throws<DatasetException>(() => FashionMnist.Load(false, dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Batches_are_a_seeded_permutation_and_reproducible()
    {
        var data = FashionMnist.Load(train: false, limit: 200);
        var loader = new BatchLoader(data, batchSize: 32, seed: 7);
        Assert.Equal(6, loader.BatchesPerEpoch);
        Assert.Equal(loader.Order(3), new BatchLoader(data, 32, 7).Order(3));
        Assert.NotEqual(loader.Order(3), loader.Order(4));
        Assert.Equal(Enumerable.Range(0, 200), loader.Order(0).Order());

        var labels = new List<float>();
        await foreach (var batch in loader.EpochAsync(0)) labels.AddRange(batch.Labels);
        var x = new float[784];
        var expected = loader.Order(0).Take(192).Select(i => (float)data.Read(i, x)).ToList();
        Assert.Equal(expected, labels);

        var resumed = new List<float>();
        await foreach (var batch in loader.EpochAsync(0, startBatch: 4)) resumed.AddRange(batch.Labels);
        Assert.Equal(expected.Skip(4 * 32), resumed);
    }

    /// <summary>A dataset stored class by class (as an image folder is): sample i has label i / 10, value i.</summary>
    private sealed class SortedByClass : IDataset
    {
        public int Count => 30;
        public VulkanCnn.TensorShape SampleShape { get; } = new(1);
        public int ClassCount => 3;
        public IReadOnlyList<string> ClassNames => ["a", "b", "c"];
        public int Read(int index, Span<float> destination)
        {
            destination[0] = index;
            return index / 10;
        }
    }

    [Fact]
    public void A_subset_spreads_over_the_source_so_a_class_sorted_dataset_keeps_every_class()
    {
        var subset = new SubsetDataset(new SortedByClass(), 6);
        Assert.Equal(6, subset.Count);
        var value = new float[1];
        var read = Enumerable.Range(0, 6).Select(i => (Label: subset.Read(i, value), Value: value[0])).ToList();
        Assert.Equal([0f, 5, 10, 15, 20, 25], read.Select(r => r.Value));
        Assert.Equal([0, 0, 1, 1, 2, 2], read.Select(r => r.Label));
        Assert.Throws<ArgumentOutOfRangeException>(() => subset.Read(6, value));
        Assert.Equal(30, new SubsetDataset(new SortedByClass(), 100).Count);
    }
}
