using System.Buffers.Binary;
using System.Text;
using VulkanCnn.Imaging;

namespace VulkanCnn.Tests.Imaging;

/// <summary>Hostile and broken image files end in typed exceptions naming the file, before any large allocation.</summary>
public sealed class ImageSafetyTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vkcnn-imgbad-" + Guid.NewGuid().ToString("N"));

    public ImageSafetyTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    private static void Chunk(MemoryStream png, string type, byte[] payload)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)payload.Length);
        png.Write(word);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. payload];
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        png.Write(word);
    }

    /// <summary>A valid-looking PNG whose IHDR claims the given size, with a few bytes of (empty) zlib data.</summary>
    private static byte[] PngClaiming(uint width, uint height)
    {
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // truecolour RGB
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A 24-bit BMP header claiming the given size, with almost no pixel data.</summary>
    private static byte[] BmpClaiming(int width, int height)
    {
        var bmp = new byte[54 + 16];
        bmp[0] = (byte)'B';
        bmp[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
        return bmp;
    }

    [Theory]
    [InlineData(100_000u, 100_000u)]     // 10 gigapixels
    [InlineData(9_000u, 8_000u)]         // 72 MP, just over the default 64 MP
    [InlineData(0x7FFF_FFFFu, 2u)]
    public void A_png_claiming_huge_dimensions_is_refused_before_allocating(uint width, uint height)
    {
        string path = Write("huge.png", PngClaiming(width, height));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageTooLargeException>(() => ImagePreprocessor.Load(path, ImagePreprocessOptions.ImageNet));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(width, e.Width);
        Assert.Equal(height, e.Height);
        Assert.Equal(ImagePreprocessOptions.DefaultMaxPixels, e.MaxPixels);
        Assert.Contains(path, e.Message);
        Assert.True(allocated < 16 << 20, $"refusing the header allocated {allocated:N0} bytes");
    }

    [Fact]
    public void A_bmp_claiming_huge_dimensions_is_refused()
    {
        string path = Write("huge.bmp", BmpClaiming(50_000, 40_000));
        var e = Assert.Throws<ImageTooLargeException>(() => ImageDecoder.DecodeRgb24(path));
        Assert.Equal(2_000_000_000, e.Width * e.Height);
        Assert.Contains("huge.bmp", e.Message);
    }

    [Fact]
    public void The_pixel_limit_is_an_option()
    {
        string photo = ImagePreprocessorTests.Photo("chelsea.png");  // 451x300 = 135,300 pixels
        var e = Assert.Throws<ImageTooLargeException>(() =>
            ImagePreprocessor.Load(photo, ImagePreprocessOptions.ImageNet with { MaxPixels = 100_000 }));
        Assert.Equal((451, 300), (e.Width, e.Height));
        Assert.Contains("100,000", e.Message);
        Assert.Equal(3 * 224 * 224, ImagePreprocessor.LoadNchw(photo, ImagePreprocessOptions.ImageNet with { MaxPixels = 135_300 }).Length);
    }

    public static TheoryData<string, byte[]> CorruptFiles()
    {
        byte[] photo = File.ReadAllBytes(ImagePreprocessorTests.Photo("chelsea.png"));
        var random = new byte[4096];
        new Random(5).NextBytes(random);
        byte[] zeroWidth = PngClaiming(0, 10);
        byte[] badZlib = PngClaiming(4, 4);
        badZlib[^20] ^= 0xFF;  // inside IDAT: zlib header no longer valid
        byte[] truncatedJpeg = File.ReadAllBytes(ImagePreprocessorTests.Photo("rocket.jpg"))[..200];
        return new()
        {
            { "random.png", random },
            { "text.jpg", Encoding.ASCII.GetBytes("this is not an image") },
            { "empty.png", [] },
            { "header-only.png", photo[..8] },
            { "zero-width.png", zeroWidth },
            { "bad-zlib.png", badZlib },
            { "truncated.jpg", truncatedJpeg },
        };
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void A_corrupt_file_raises_a_typed_exception_naming_it(string name, byte[] bytes)
    {
        string path = Write(name, bytes);
        var e = Assert.ThrowsAny<ImageLoadException>(() => ImagePreprocessor.Load(path, ImagePreprocessOptions.ImageNet));
        Assert.IsType<ImageDecodeException>(e);
        Assert.Equal(path, e.SourceName);
        Assert.Contains(name, e.Message);
    }
}
