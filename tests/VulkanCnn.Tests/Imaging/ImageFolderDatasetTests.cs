using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using VulkanCnn.Imaging;
using VulkanCnn.Training.Data;

namespace VulkanCnn.Tests.Imaging;

public sealed class ImageFolderDatasetTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vkcnn-folder-" + Guid.NewGuid().ToString("N"));

    private void Write(string cls, string name, int w, int h, byte shade)
    {
        Directory.CreateDirectory(Path.Combine(_root, cls));
        using var image = new Image<Rgb24>(w, h, new Rgb24(shade, shade, shade));
        image.SaveAsPng(Path.Combine(_root, cls, name));
    }

    private static readonly ImagePreprocessOptions Grey8 = new()
    {
        ChannelOrder = ChannelOrder.Grayscale,
        ResizeShorterSide = 0,
        CropWidth = 0,
        CropHeight = 0,
        Mean = [0f],
        Std = [1f],
    };

    [Fact]
    public void Classes_are_sorted_subfolders_and_samples_decode_to_the_fixed_shape()
    {
        Write("b_dog", "1.png", 8, 8, 200);
        Write("a_cat", "1.png", 8, 8, 51);
        Write("a_cat", "2.png", 8, 8, 102);
        File.WriteAllText(Path.Combine(_root, "a_cat", "notes.txt"), "not an image");
        var data = new ImageFolderDataset(_root, Grey8, requireSize: (8, 8));
        Assert.Equal(["a_cat", "b_dog"], data.ClassNames);
        Assert.Equal(3, data.Count);
        Assert.Equal(new TensorShape(1, 8, 8), data.SampleShape);
        var x = new float[64];
        Assert.Equal(0, data.Read(0, x));
        Assert.All(x, v => Assert.Equal(0.2f, v, 3));
        Assert.Equal(1, data.Read(2, x));
        Assert.All(x, v => Assert.Equal(200 / 255f, v, 3));
    }

    [Fact]
    public void An_image_of_the_wrong_size_is_named()
    {
        Write("a", "ok.png", 8, 8, 10);
        Write("b", "big.png", 9, 8, 10);
        var data = new ImageFolderDataset(_root, Grey8, requireSize: (8, 8));
        var e = Assert.Throws<DatasetException>(() => data.Read(1, new float[64]));
        Assert.Contains("big.png", e.Message);
        Assert.Contains("9x8", e.Message);
    }

    [Fact]
    public void Missing_or_degenerate_folders_are_clear_errors()
    {
        Assert.Contains("does not exist",
            Assert.Throws<DatasetException>(() => new ImageFolderDataset(_root + "-missing", Grey8, (8, 8))).Message);
        Write("only", "1.png", 8, 8, 1);
        Assert.Contains("at least 2", Assert.Throws<DatasetException>(() => new ImageFolderDataset(_root, Grey8, (8, 8))).Message);
        Directory.CreateDirectory(Path.Combine(_root, "empty"));
        Assert.Contains("holds no images", Assert.Throws<DatasetException>(() => new ImageFolderDataset(_root, Grey8, (8, 8))).Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }
}
