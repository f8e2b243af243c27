namespace VulkanCnn.Tests.Infrastructure;

/// <summary>Image folders for the CLI's training commands: DIR/{train,test}/&lt;class&gt;/N.png, each class a noisy grey level.
/// </summary>
public static class TestImageFolders
{
    public static void Write(string root, (string Class, int Shade)[] classes, int perClass, int size, int seed)
    {
        var rng = new Random(seed);
        foreach (var (cls, shade) in classes)
            foreach (var split in new[] { "train", "test" })
            {
                Directory.CreateDirectory(Path.Combine(root, split, cls));
                for (int i = 0; i < perClass; i++)
                {
                    using var img = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(size, size);
                    for (int y = 0; y < size; y++)
                        for (int x = 0; x < size; x++)
                        {
                            byte v = (byte)(shade + rng.Next(-30, 30));
                            img[x, y] = new(v, v, v);
                        }
                    SixLabors.ImageSharp.ImageExtensions.SaveAsPng(img, Path.Combine(root, split, cls, $"{i}.png"));
                }
            }
    }
}
