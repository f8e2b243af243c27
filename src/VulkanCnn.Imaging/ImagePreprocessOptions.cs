namespace VulkanCnn.Imaging;

/// <summary>Channel order of the output tensor.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue (PyTorch / torchvision models).</summary>
    Rgb,
    /// <summary>Blue, green, red (Caffe, CNTK and OpenCV-trained models).</summary>
    Bgr,
    /// <summary>One channel: BT.601 luma 0.299 R + 0.587 G + 0.114 B (as PIL and torchvision).</summary>
    Grayscale,
}

/// <summary>The value range pixels are scaled to before mean/std normalisation.</summary>
public enum PixelRange
{
    /// <summary>8-bit values divided by 255 (torchvision ToTensor).</summary>
    ZeroToOne,
    /// <summary>8-bit values as they are (Caffe / CNTK style).</summary>
    ZeroTo255,
}

/// <summary>How the image is fitted to the <c>CropWidth</c> x <c>CropHeight</c> output.</summary>
public enum ImageFit
{
    /// <summary>Resize the shorter side to <c>ResizeShorterSide</c>, then cut the centre window (torchvision
    /// classification transforms). Parts of the image may be lost.</summary>
    CenterCrop,
    /// <summary>Scale the whole image to fit inside the output keeping its aspect ratio, centre it and fill the
    /// bars with <c>PadValue</c> (YOLO-style detectors). Nothing is lost; <c>ResizeShorterSide</c> is ignored.</summary>
    Letterbox,
}

/// <summary>
/// How an image becomes a float tensor: resize the shorter side (bilinear) and center-crop, or letterbox
/// (see <see cref="Fit"/>), scale to <see cref="Range"/>, then <c>(value - Mean[c]) / Std[c]</c> per output
/// channel. The result is NCHW.
/// </summary>
public sealed record ImagePreprocessOptions
{
    /// <summary>64 megapixels: larger than any camera photo in common use, small enough that the decoded
    /// 8-bit image (192 MB) cannot take a machine down.</summary>
    public const long DefaultMaxPixels = 64_000_000;

    /// <summary>Resize so the shorter side has this many pixels, keeping the aspect ratio (longer side
    /// truncated, as torchvision's <c>Resize(int)</c>). 0 keeps the decoded size. Ignored by
    /// <see cref="ImageFit.Letterbox"/>, whose scale follows from the output size.</summary>
    public int ResizeShorterSide { get; init; } = 256;

    /// <summary>When shrinking, widen the bilinear (triangle) filter by the scale factor so every source pixel
    /// contributes (PIL and torchvision's <c>antialias=True</c>). False: plain 2-tap bilinear with half-pixel
    /// centers (<c>F.interpolate(mode="bilinear", align_corners=False)</c>, OpenCV INTER_LINEAR).</summary>
    public bool Antialias { get; init; } = true;

    /// <summary>Center-crop width after resizing; 0 keeps the full width.</summary>
    public int CropWidth { get; init; } = 224;

    /// <summary>Center-crop height after resizing; 0 keeps the full height.</summary>
    public int CropHeight { get; init; } = 224;

    /// <summary>Center-crop (default) or letterbox into <see cref="CropWidth"/> x <see cref="CropHeight"/>;
    /// letterboxing needs both set.</summary>
    public ImageFit Fit { get; init; } = ImageFit.CenterCrop;

    /// <summary>8-bit value (0..255, the same in every channel) of the letterbox bars; they are scaled and
    /// normalised like real pixels. Default 114, the grey YOLO detectors are trained with.</summary>
    public int PadValue { get; init; } = 114;

    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Rgb;

    public PixelRange Range { get; init; } = PixelRange.ZeroToOne;

    /// <summary>Per output channel (in <see cref="ChannelOrder"/> order and <see cref="Range"/> units);
    /// null subtracts nothing.</summary>
    public float[]? Mean { get; init; }

    /// <summary>Per output channel; null divides by one.</summary>
    public float[]? Std { get; init; }

    /// <summary>Images whose header declares more pixels are refused with <see cref="ImageTooLargeException"/>
    /// before decoding.</summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>Output channels: 1 for grayscale, otherwise 3.</summary>
    public int Channels => ChannelOrder == ChannelOrder.Grayscale ? 1 : 3;

    /// <summary>torchvision's ImageNet evaluation transform: resize 256, crop 224, RGB, 0..1,
    /// mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).</summary>
    public static ImagePreprocessOptions ImageNet { get; } = new()
    {
        Mean = [0.485f, 0.456f, 0.406f],
        Std = [0.229f, 0.224f, 0.225f],
    };

    /// <summary>Caffe-style ImageNet models: resize 256, crop 224, BGR, 0..255, minus the BGR channel means
    /// (103.939, 116.779, 123.68), no scaling.</summary>
    public static ImagePreprocessOptions Caffe { get; } = new()
    {
        ChannelOrder = ChannelOrder.Bgr,
        Range = PixelRange.ZeroTo255,
        Mean = [103.939f, 116.779f, 123.68f],
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (ResizeShorterSide < 0) throw new ArgumentException($"ResizeShorterSide is {ResizeShorterSide}; use 0 (no resize) or a " +
            $"positive size.");
        if (CropWidth < 0
            || CropHeight < 0) throw new ArgumentException($"Crop is {CropWidth}x{CropHeight}; sizes must be 0 (no crop) or positive.");
        if (!Enum.IsDefined(Fit)) throw new ArgumentException($"Fit {Fit} is not defined.");
        if (Fit == ImageFit.Letterbox && (CropWidth == 0 || CropHeight == 0))
            throw new ArgumentException($"Letterbox needs the output size; CropWidth and CropHeight are {CropWidth}x{CropHeight}.");
        if (PadValue is < 0 or > 255) throw new ArgumentException($"PadValue is {PadValue}; it is an 8-bit pixel value, 0..255.");
        if (MaxPixels <= 0) throw new ArgumentException($"MaxPixels is {MaxPixels}; it must be positive.");
        if (!Enum.IsDefined(ChannelOrder)) throw new ArgumentException($"ChannelOrder {ChannelOrder} is not defined.");
        if (!Enum.IsDefined(Range)) throw new ArgumentException($"Range {Range} is not defined.");
        if (Mean is not null && Mean.Length != Channels)
            throw new ArgumentException($"Mean has {Mean.Length} values; {ChannelOrder} output has {Channels} channel(s).");
        if (Std is not null)
        {
            if (Std.Length != Channels) throw new ArgumentException($"Std has {Std.Length} values; {ChannelOrder} output has {Channels} " +
                $"channel(s).");
            foreach (float s in Std)
                if (!(s > 0)
                    || float.IsInfinity(s)) throw new ArgumentException($"Std [{string.Join(", ", Std)}] must be positive and finite.");
        }
    }
}
