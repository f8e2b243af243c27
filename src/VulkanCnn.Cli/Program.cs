using System.CommandLine;
using VulkanCnn.Cli;
using VulkanCnn.Cli.Commands;

var root = new RootCommand("vkcnn: run, train, benchmark and inspect CNNs on any Vulkan GPU.");
root.Options.Add(GlobalOptions.Device);
root.Options.Add(GlobalOptions.Validation);
root.Options.Add(GlobalOptions.CacheDir);
root.Options.Add(GlobalOptions.Precision);
root.Options.Add(GlobalOptions.Variant);
root.Subcommands.Add(DevicesCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(SmokeCommand.Create());
root.Subcommands.Add(ViewCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(TuneCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(CamerasCommand.Create());
root.Subcommands.Add(FinetuneCommand.Create());
root.Subcommands.Add(FinetuneCommand.CreateClassify());
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration
    {
        EnableDefaultExceptionHandler = false,
        // train saves a checkpoint on Ctrl+C, which can take more than System.CommandLine's default 2 s on a slow device.
        ProcessTerminationTimeout = null,
    });
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    // Typed exceptions already name the file, node or argument: print the message, not a stack trace.
    Console.Error.WriteLine($"vkcnn: {e.GetType().Name}: {e.Message}");
    if (Environment.GetEnvironmentVariable("VKCNN_DEBUG") == "1") Console.Error.WriteLine(e);
    return 1;
}
