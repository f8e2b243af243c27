using System.CommandLine;
using VulkanCnn.Cli;
using VulkanCnn.Cli.Commands;

var root = new RootCommand("vkcnn: run, benchmark and inspect CNNs on any Vulkan GPU.");
root.Options.Add(GlobalOptions.Device);
root.Options.Add(GlobalOptions.Validation);
root.Subcommands.Add(DevicesCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
return await root.Parse(args).InvokeAsync();
