using Spectre.Console;
using System.CommandLine;
using System.Text.RegularExpressions;

namespace VulkanCnn.Tests.Cli;

/// <summary>Runs a vkcnn command in process, under a root with the global options, with Console and
/// AnsiConsole captured (no colours).</summary>
internal static class CliInvoker
{
    /// <param name="throwExceptions">Exceptions propagate instead of System.CommandLine's handler printing them (exit code 1).</param>
    /// <param name="plainText">Tables 200 columns wide (no wrapped cells), and the ANSI decorations (bold …) that
    /// are still written without colours stripped.</param>
    public static (int Code, string Output) Invoke(Command command, string[] args, bool throwExceptions = false, bool plainText = false)
    {
        var root = new RootCommand { command };
        root.Options.Add(VulkanCnn.Cli.GlobalOptions.Device);
        root.Options.Add(VulkanCnn.Cli.GlobalOptions.Validation);
        root.Options.Add(VulkanCnn.Cli.GlobalOptions.CacheDir);
        root.Options.Add(VulkanCnn.Cli.GlobalOptions.Precision);
        root.Options.Add(VulkanCnn.Cli.GlobalOptions.Variant);
        var output = new StringWriter();
        var saved = Console.Out;
        var savedAnsi = AnsiConsole.Console;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            ColorSystem = ColorSystemSupport.NoColors
        });
        if (plainText) console.Profile.Width = 200;
        Console.SetOut(output);
        AnsiConsole.Console = console;
        try
        {
            var result = root.Parse(args);
            int code = throwExceptions ? result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false })
                : result.Invoke();
            return (code, plainText ? Regex.Replace(output.ToString(), @"\x1b\[[0-9;]*m", "") : output.ToString());
        }
        finally { Console.SetOut(saved); AnsiConsole.Console = savedAnsi; }
    }
}
