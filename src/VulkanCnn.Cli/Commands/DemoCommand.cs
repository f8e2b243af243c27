using Spectre.Console;
using System.CommandLine;

namespace VulkanCnn.Cli.Commands;

/// <summary>
/// <c>vkcnn demo</c> (what <c>./build.sh demo</c> runs): the live viewer on embedded defaults and the best device.
/// With a camera: teach by showing, with on-screen hints. Without one: the bundled Fashion-MNIST model on the
/// test-set slideshow. Without a display: headless, 60 annotated PNG frames in artifacts/demo.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var frames = new Option<long?>("--frames") { Description = "Stop after N frames (default: until Esc; 60 headless)." };
        var headless = new Option<bool>("--headless") { Description = "Do not open a window." };
        var output = new Option<string>("--out")
        {
            Description = "Folder for headless frames.",
            DefaultValueFactory = _ =>
            Path.Combine("artifacts", "demo")
        };
        var command = new Command("demo", "The live camera / Fashion-MNIST viewer on embedded defaults.") { frames, headless, output };
        command.SetAction(result =>
        {
            bool camera = CameraPresent();
            AnsiConsole.MarkupLine(camera
                ? "Camera found: [bold]teach by showing[/] — hold an object up and press 1, another and press 2, …"
                : "No camera: the bundled [bold]Fashion-MNIST[/] small CNN classifies the test-set slideshow.");
            return ViewCommand.Run(GlobalOptions.DeviceOptions(result), new ViewSettings
            {
                Teach = camera,
                Source = camera ? "camera" : "fashion-mnist",
                Headless = result.GetValue(headless),
                Frames = result.GetValue(frames),
                Out = result.GetValue(output),
            });
        });
        return command;
    }

    /// <summary>A camera as <c>vkcnn cameras</c> lists them (Linux: /dev/video* devices; elsewhere none are listed, so the
    /// demo shows the slideshow and `vkcnn view --teach --source camera` opens the camera).</summary>
    private static bool CameraPresent() => Imaging.Frames.FfmpegFrameSource.ListCameras().Count > 0;
}
