using System.CommandLine;
using System.Globalization;
using VulkanCnn.Compiler;
using VulkanCnn.Imaging;
using VulkanCnn.Ir;

namespace VulkanCnn.Cli.Commands;

/// <summary>The ways <c>vkcnn run</c> and <c>vkcnn bench</c> take model inputs: .npy files or a preprocessed image.</summary>
internal sealed class ModelInputs
{
    public readonly Option<string[]> Inputs = new("--input")
    {
        Description = "A .npy file for the first input, or name=FILE.npy for a named one (repeatable).",
        AllowMultipleArgumentsPerToken = false,
    };
    public readonly Option<FileInfo?> Image = new("--image") { Description = "An image, preprocessed into the first input (NCHW)." };
    public readonly Option<int> Size = new("--size") { Description = "Crop size for --image.", DefaultValueFactory = _ => 224 };
    public readonly Option<int?> Resize = new("--resize") { Description = "Shorter side before the crop (default: size * 256 / 224)." };
    public readonly Option<string?> Mean = new("--mean") { Description = "Per-channel mean, e.g. 0.485,0.456,0.406 (default: ImageNet)." };
    public readonly Option<string?> Std = new("--std") { Description = "Per-channel std, e.g. 0.229,0.224,0.225 (default: ImageNet)." };
    public readonly Option<bool> Bgr = new("--bgr") { Description = "Feed channels in BGR order." };
    public readonly Option<bool> Scale255 = new("--scale255")
    {
        Description = "Keep pixels in 0..255 (mean/std then apply to that range).",
    };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Inputs, Image, Size, Resize, Mean, Std, Bgr, Scale255 }) command.Options.Add(o);
    }

    /// <summary>The named input tensors; the first graph input's name is needed for unnamed ones.</summary>
    public Dictionary<string, HostTensor> Read(ParseResult r, string firstInput)
    {
        var result = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var spec in r.GetValue(Inputs) ?? [])
        {
            int eq = spec.IndexOf('=');
            string name = eq > 0 && !File.Exists(spec) ? spec[..eq] : firstInput;
            string path = eq > 0 && !File.Exists(spec) ? spec[(eq + 1)..] : spec;
            var array = NpyFile.ReadAsFloat32(path);
            result[name] = HostTensor.FromFloats(array.ToTensorShape(), array.Data);
        }
        if (r.GetValue(Image) is { } image)
        {
            int size = r.GetValue(Size);
            bool raw = r.GetValue(Scale255);
            var options = ImagePreprocessOptions.ImageNet with
            {
                CropWidth = size,
                CropHeight = size,
                ResizeShorterSide = r.GetValue(Resize) ?? size * 256 / 224,
                ChannelOrder = r.GetValue(Bgr) ? ChannelOrder.Bgr : ChannelOrder.Rgb,
                Range = raw ? PixelRange.ZeroTo255 : PixelRange.ZeroToOne,
                Mean = Floats(r.GetValue(Mean)) ?? (raw ? [0f, 0f, 0f] : ImagePreprocessOptions.ImageNet.Mean),
                Std = Floats(r.GetValue(Std)) ?? (raw ? [1f, 1f, 1f] : ImagePreprocessOptions.ImageNet.Std),
            };
            var pre = ImagePreprocessor.Load(image.FullName, options);
            result[firstInput] = HostTensor.FromFloats(pre.Shape, pre.Data);
        }
        return result;
    }

    private static float[]? Floats(string? csv) => csv?.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
}
