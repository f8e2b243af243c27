using VulkanCnn.Training.Data;

namespace VulkanCnn.Imaging;

/// <summary>
/// A labelled image folder: <c>ROOT/&lt;class&gt;/*.jpg|png|…</c>, classes sorted by name (as
/// torchvision's ImageFolder). Images are decoded on demand (thread-safe, for the loader's
/// background prefetch) and preprocessed to one fixed CHW size. With <c>requireSize</c> set, an
/// image of another size is an error naming the file instead of being resized.
/// </summary>
public sealed class ImageFolderDataset : IDataset
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".gif",
        ".tga", ".webp", ".tif", ".tiff" };
    private readonly List<(string Path, int Label)> _items;
    private readonly ImagePreprocessOptions _options;
    private readonly (int Width, int Height)? _requireSize;

    public ImageFolderDataset(string root, ImagePreprocessOptions options, (int Width, int Height)? requireSize = null)
    {
        if (!Directory.Exists(root)) throw new DatasetException($"Image folder '{root}' does not exist; expected ROOT/<class>/<images>.");
        options.Validate();
        _options = options;
        _requireSize = requireSize;
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).Where(n => n is not null && !n.StartsWith('.')).Select(n =>
            n!)
            .Order(StringComparer.Ordinal).ToList();
        if (classes.Count < 2) throw new DatasetException($"Image folder '{root}' has {classes.Count} class subfolder(s); a classifier " +
            $"needs at least 2.");
        _items = new List<(string, int)>();
        for (int c = 0; c < classes.Count; c++)
        {
            var files = Directory.EnumerateFiles(Path.Combine(root, classes[c])).Where(f => Extensions.Contains(Path.GetExtension(f)))
                .Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new DatasetException($"Class folder '{Path.Combine(root, classes[c])}' holds no images.");
            _items.AddRange(files.Select(f => (f, c)));
        }
        ClassNames = classes;
        int h = options.CropHeight > 0 ? options.CropHeight : requireSize?.Height
            ?? throw new DatasetException("Give the image folder a crop size or a required size.");
        int w = options.CropWidth > 0 ? options.CropWidth : requireSize!.Value.Width;
        SampleShape = new TensorShape(options.Channels, h, w);
    }

    public int Count => _items.Count;
    public TensorShape SampleShape { get; }
    public int ClassCount => ClassNames.Count;
    public IReadOnlyList<string> ClassNames { get; }
    public string PathOf(int index) => _items[index].Path;

    public int Read(int index, Span<float> destination)
    {
        var (path, label) = _items[index];
        if (_requireSize is { } size)
        {
            var (w, h) = ImageDecoder.Identify(path, _options.MaxPixels);
            if (w != size.Width || h != size.Height)
                throw new DatasetException($"{path} is {w}x{h}; every image in this folder must be {size.Width}x{size.Height}.");
        }
        var image = ImagePreprocessor.Load(path, _options);
        if (image.Data.Length != destination.Length)
            throw new DatasetException($"{path} preprocesses to {image.Shape}; the dataset's samples are {SampleShape}.");
        image.Data.CopyTo(destination);
        return label;
    }
}
