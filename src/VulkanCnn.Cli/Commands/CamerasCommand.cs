using Spectre.Console;
using System.CommandLine;
using VulkanCnn.Imaging.Frames;

namespace VulkanCnn.Cli.Commands;

/// <summary><c>vkcnn cameras</c>: the camera devices ffmpeg can open on this machine.</summary>
internal static class CamerasCommand
{
    public static Command Create()
    {
        var command = new Command("cameras", "List camera devices (Linux: /dev/video*).");
        command.SetAction(_ =>
        {
            var cameras = FfmpegFrameSource.ListCameras();
            if (cameras.Count == 0)
            {
                AnsiConsole.MarkupLine(OperatingSystem.IsLinux()
                    ? "No camera found (no /dev/video* device). Use --source testsrc, an image, a folder or a video file."
                    : "Camera listing uses ffmpeg on this system: `ffmpeg -list_devices true -f dshow -i dummy` (Windows) or `ffmpeg -f " +
                        "avfoundation -list_devices true -i \"\"` (macOS).");
                return 0;
            }
            foreach (var c in cameras) AnsiConsole.MarkupLine(Markup.Escape(c));
            return 0;
        });
        return command;
    }
}
