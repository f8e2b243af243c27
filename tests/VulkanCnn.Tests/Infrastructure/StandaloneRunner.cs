using System.Collections.Concurrent;
using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace VulkanCnn.Tests.Infrastructure;

/// <summary>
/// Runs this assembly's tests without the .NET SDK, for machines that have a GPU but no
/// <c>dotnet test</c> (a self-contained publish of this project is an executable):
/// <c>VulkanCnn.Tests [--include A,B] [--exclude C,D]</c>, where each name is a substring of a test's
/// display name. It drives xunit's own discoverer and executor, so fixtures, theories and
/// collections behave as under <c>dotnet test</c>; exit code 0 only when tests ran and nothing failed.
/// <c>dotnet test</c> does not use this entry point.
/// </summary>
public static class StandaloneRunner
{
    public static int Main(string[] args)
    {
        var include = Names(args, "--include");
        var exclude = Names(args, "--exclude");
        var assembly = typeof(StandaloneRunner).Assembly;
        var diagnostics = new Sink(typeof(void), _ => { });
        using var framework = new XunitTestFramework(diagnostics);

        var found = new List<ITestCase>();
        using (var discovery = new Sink(typeof(IDiscoveryCompleteMessage), m =>
            { if (m is ITestCaseDiscoveryMessage d) found.Add(d.TestCase); }))
        {
            using var discoverer = framework.GetDiscoverer(Reflector.Wrap(assembly));
            discoverer.Find(includeSourceInformation: false, discovery, new Options());
            discovery.Wait();
        }
        var selected = found.Where(t => (include.Count == 0 || include.Any(t.DisplayName.Contains))
            && !exclude.Any(t.DisplayName.Contains)).ToList();
        Console.WriteLine($"{selected.Count} of {found.Count} tests selected");
        if (selected.Count == 0)
        {
            Console.WriteLine("No test matches --include/--exclude: nothing was run.");
            return 2;
        }

        int passed = 0, failed = 0, skipped = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var execution = new Sink(typeof(ITestAssemblyFinished), m =>
        {
            switch (m)
            {
                case ITestPassed: Interlocked.Increment(ref passed); break;
                case ITestSkipped s: Interlocked.Increment(ref skipped); Console.WriteLine($"SKIP {s.Test.DisplayName}: {s.Reason}"); break;
                case ITestFailed f:
                    Interlocked.Increment(ref failed);
                    Console.WriteLine($"FAIL {f.Test.DisplayName}\n  {string.Join("\n  ", f.Messages)}\n  " +
                        $"{string.Join("\n", f.StackTraces).Split('\n').FirstOrDefault()}");
                    break;
                // Errors outside a test (a fixture's Dispose, a class or collection cleanup) fail the run as xunit's runners do.
                case IErrorMessage or ITestAssemblyCleanupFailure or ITestCollectionCleanupFailure or ITestClassCleanupFailure
                    or ITestCaseCleanupFailure or ITestCleanupFailure:
                    Interlocked.Increment(ref failed);
                    Console.WriteLine($"ERROR {m.GetType().Name}: {string.Join(" ", ((IFailureInformation)m).Messages)}");
                    break;
            }
        }))
        {
            using var executor = framework.GetExecutor(assembly.GetName());
            executor.RunTests(selected, execution, new Options());
            execution.Wait();
        }
        Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped in {clock.Elapsed.TotalSeconds:0} s");
        return failed == 0 ? 0 : 1;
    }

    private static List<string> Names(string[] args, string option)
    {
        int i = Array.IndexOf(args, option);
        return i >= 0 && i + 1 < args.Length ? [.. args[i + 1].Split(',', StringSplitOptions.RemoveEmptyEntries)] : [];
    }

    /// <summary>Discovery and execution options: xunit's defaults for every key not set.</summary>
    private sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        private readonly ConcurrentDictionary<string, object?> _values = new();
        public TValue GetValue<TValue>(string name) => _values.TryGetValue(name, out var v) && v is TValue t ? t : default!;
        public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
    }

    /// <summary>Forwards messages to a callback; <see cref="Wait"/> returns once the awaited message type arrived.</summary>
    private sealed class Sink(Type awaited, Action<IMessageSinkMessage> onMessage) : LongLivedMarshalByRefObject, IMessageSink, IDisposable
    {
        private readonly ManualResetEventSlim _done = new();

        public bool OnMessage(IMessageSinkMessage message)
        {
            onMessage(message);
            if (awaited.IsInstanceOfType(message)) _done.Set();
            return true;
        }

        public void Wait() => _done.Wait();

        public void Dispose() => _done.Dispose();
    }
}
