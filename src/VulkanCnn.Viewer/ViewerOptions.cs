namespace VulkanCnn.Viewer;

/// <summary>How <see cref="ViewerApp"/> runs.</summary>
public sealed record ViewerOptions
{
    /// <summary>Window (or headless image) size in pixels.</summary>
    public int Width { get; init; } = 640;
    public int Height { get; init; } = 480;
    /// <summary>Stop after this many displayed frames (default: until Esc / the window closes).</summary>
    public long? Frames { get; init; }
    /// <summary>Render off screen and write PNG frames instead of opening a window.</summary>
    public bool Headless { get; init; }
    /// <summary>Headless: folder for the annotated PNG frames (none written when null).</summary>
    public string? OutputDirectory { get; init; }
    /// <summary>Headless: write every Nth frame.</summary>
    public int SaveEvery { get; init; } = 1;
    /// <summary>Draw the overlay (top-k, FPS, latency, device, hints).</summary>
    public bool Overlay { get; init; } = true;
    /// <summary>Present with FIFO (vsync) instead of the lowest-latency mode.</summary>
    public bool VSync { get; init; }
    /// <summary>Upper bound on the display rate; the rest of each frame is left to the network's slices.</summary>
    public double MaxFps { get; init; } = 30;
    /// <summary>Key presses to inject at given frame numbers (scripted demos and tests); GLFW key codes.</summary>
    public IReadOnlyList<(long Frame, int Key)> ScriptedKeys { get; init; } = [];
    /// <summary>Window resizes to request at given frame numbers (tests).</summary>
    public IReadOnlyList<(long Frame, int Width, int Height)> ScriptedResizes { get; init; } = [];
    /// <summary>A line about the source to show (e.g. "no camera: showing the test pattern").</summary>
    public string? SourceNote { get; init; }
    /// <summary>Progress and summary lines. Default: standard output.</summary>
    public Action<string> Log { get; init; } = Console.WriteLine;
}

/// <summary>What a viewer run measured.</summary>
public sealed record ViewerReport(long FramesDisplayed, double Seconds, double DisplayFps, int Inferences, double InferencesPerSecond,
    double MeanLatencyMs, double? FirstResultSeconds, int SwapchainRecreations, int DisplayDeviceToHostCopies, string PresentMode,
    string? LastPrediction, IReadOnlyList<string> WrittenFiles);
