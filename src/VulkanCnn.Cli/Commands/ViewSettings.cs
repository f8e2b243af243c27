using VulkanCnn.Viewer.Glfw;

namespace VulkanCnn.Cli.Commands;

/// <summary>Everything <c>vkcnn view</c> and <c>vkcnn demo</c> decide before the viewer starts.</summary>
internal sealed record ViewSettings
{
    public string? Model { get; init; }
    public string? Labels { get; init; }
    public string? Checkpoint { get; init; }
    public bool Teach { get; init; }
    public string Head { get; init; } = "head.safetensors";
    public IReadOnlyList<string>? Classes { get; init; }
    public string? Backbone { get; init; }
    public string? Source { get; init; }
    public bool Headless { get; init; }
    public long? Frames { get; init; }
    public string? Out { get; init; }
    public int Width { get; init; } = 640;
    public int Height { get; init; } = 480;
    public bool Overlay { get; init; } = true;
    public bool VSync { get; init; }
    public double MaxFps { get; init; } = 30;
    public double BudgetMs { get; init; } = 12;
    /// <summary>Time per Fashion-MNIST slide; default 800 ms in a window, 150 ms headless (more images per written frame).</summary>
    public int? SlideMs { get; init; }
    public bool Letterbox { get; init; }
    public bool Bgr { get; init; }
    public bool Range255 { get; init; }
    public float[]? Mean { get; init; }
    public float[]? Std { get; init; }
    public IReadOnlyList<(long Frame, int Key)> Keys { get; init; } = [];
    public IReadOnlyList<(long Frame, int Width, int Height)> Resizes { get; init; } = [];

    /// <summary>The Fashion-MNIST checkpoint copied next to vkcnn (examples/FashionMnist/small-cnn.safetensors).</summary>
    public static string BundledCheckpoint => Path.Combine(AppContext.BaseDirectory, "models", "small-cnn.safetensors");

    /// <summary>"30:1,60:S,90:Esc" → (frame, GLFW key code).</summary>
    public static IReadOnlyList<(long, int)> ParseKeys(string? spec) => string.IsNullOrWhiteSpace(spec) ? [] :
        spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(item =>
        {
            var parts = item.Split(':');
            if (parts.Length != 2 || !long.TryParse(parts[0], out long frame) || frame < 0)
                throw new ArgumentException($"--keys item '{item}' is not FRAME:KEY (e.g. 30:1 or 90:Esc).", "--keys");
            string key = parts[1];
            int code = key.Equals("Esc", StringComparison.OrdinalIgnoreCase) ? GlfwWindow.KeyEscape
                : key.Length == 1 && char.IsAsciiLetterOrDigit(key[0]) ? char.ToUpperInvariant(key[0])
                : throw new ArgumentException($"--keys item '{item}': the key is a digit, a letter or Esc.", "--keys");
            return (frame, code);
        }).ToList();

    /// <summary>"40:800x600,80:320x240" → (frame, width, height).</summary>
    public static IReadOnlyList<(long, int, int)> ParseResizes(string? spec) => string.IsNullOrWhiteSpace(spec) ? [] :
        spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(item =>
        {
            var parts = item.Split(':', 'x');
            if (parts.Length != 3 || !long.TryParse(parts[0], out long frame) || !int.TryParse(parts[1], out int w)
                || !int.TryParse(parts[2], out int h) || w < 1 || h < 1)
                throw new ArgumentException($"--resize-at item '{item}' is not FRAME:WIDTHxHEIGHT (e.g. 40:800x600).", "--resize-at");
            return (frame, w, h);
        }).ToList();

    public static float[]? ParseTriple(string? spec, string option)
    {
        if (string.IsNullOrWhiteSpace(spec)) return null;
        var values = spec.Split(',').Select(v =>
            float.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float f) ? f
                : float.NaN).ToArray();
        if (values.Length != 3
            || values.Any(float.IsNaN)) throw new ArgumentException($"{option} takes three comma-separated numbers (R,G,B), got '{spec}'.",
                option);
        return values;
    }
}
