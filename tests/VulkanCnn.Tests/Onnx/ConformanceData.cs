using Onnx;
using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Onnx;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Onnx;

/// <summary>One directory of the ONNX backend test data: model.onnx and test_data_set_0.</summary>
public sealed record ConformanceCase(string Id, string Directory, IReadOnlyList<string> OpTypes, IReadOnlyList<string> OutsideOps,
    long Opset, int NodeCount)
{
    /// <summary>One computing node (Constant nodes aside): compared at operator tolerance.</summary>
    public bool SingleNode => NodeCount == 1;
}

/// <summary>A line of conformance-skips.txt: case id | reason category | detail.</summary>
public sealed record SkipEntry(string Id, string Category, string Detail)
{
    /// <summary>One of <see cref="ConformanceData.Categories"/> ("known operator bug: what" for the last).</summary>
    public bool HasFixedReason => ConformanceData.Categories.Any(c => Category == c && c != "known operator bug")
        || Category.StartsWith("known operator bug: ", StringComparison.Ordinal) && Category.Length > "known operator bug: ".Length;
}

public sealed record CaseOutcome(string Id, string Status, double WorstError, string Message)
{
    public const string Passed = "passed", Failed = "failed", Skipped = "skipped";
}

/// <summary>
/// The backend test data of Debian's libonnx-testdata (ONNX 1.12, opsets ≤ 17): which directories
/// are in scope (every op handled by the importer or the library), the committed skip list, and
/// the runner that imports a case, runs it on the GPU and compares with the expected outputs.
/// </summary>
public static class ConformanceData
{
    public const string Root = "/usr/share/libonnx-testdata/data";
    public static readonly string[] Suites = ["node", "pytorch-converted", "pytorch-operator"];

    /// <summary>The only reasons a case of an in-scope op may be skipped.</summary>
    public static readonly string[] Categories =
        ["non-float data", "not 2-D", "op outside the library", "empty tensor", "unsupported attribute", "training mode",
            "known operator bug"];

    public static string SkipFile => Repo.PathOf("tests", "VulkanCnn.Tests", "Onnx", "conformance-skips.txt");

    public sealed record Catalogue(IReadOnlyList<ConformanceCase> InScope, IReadOnlyList<ConformanceCase> Outside,
        IReadOnlyDictionary<string, SkipEntry> Skips, IReadOnlyList<string> Problems)
    {
        public IEnumerable<ConformanceCase> TestCases => InScope.Concat(Outside.Where(c => Skips.ContainsKey(c.Id)));
        public ConformanceCase Get(string id) => TestCases.First(c => c.Id == id);
    }

    private static readonly Lazy<Catalogue> Lazy = new(Discover);
    public static Catalogue Cases => Lazy.Value;

    /// <summary>Outcomes of the cases run so far in this process (the summary reads them).</summary>
    public static ConcurrentDictionary<string, CaseOutcome> Outcomes { get; } = new();

    private static Catalogue Discover()
    {
        var skips = ReadSkips(out var problems);
        var inScope = new List<ConformanceCase>();
        var outside = new List<ConformanceCase>();
        foreach (var suite in Suites)
        {
            string dir = Path.Combine(Root, suite);
            if (!Directory.Exists(dir)) { problems.Add($"{dir} is missing: install libonnx-testdata (build.sh does)"); continue; }
            foreach (var caseDir in Directory.GetDirectories(dir).OrderBy(d => d, StringComparer.Ordinal))
            {
                string id = suite + "/" + Path.GetFileName(caseDir);
                string modelPath = Path.Combine(caseDir, "model.onnx");
                if (!File.Exists(modelPath)) continue;
                var model = OnnxImporter.ReadModel(File.ReadAllBytes(modelPath), modelPath);
                var ops = model.Graph.Node.Select(n => n.Domain is "" or "ai.onnx" ? n.OpType
                    : $"{n.Domain}.{n.OpType}").Distinct().Order(StringComparer.Ordinal).ToList();
                var outsideOps = ops.Where(op => !InLibrary(op)).ToList();
                if (model.Graph.Input.Concat(model.Graph.Output).Any(v =>
                    v.Type?.TensorType is null)) outsideOps.Add("(sequence/optional values)");
                var c = new ConformanceCase(id, caseDir, ops, outsideOps, OnnxImporter.DefaultOpset(model),
                    model.Graph.Node.Count(n => n.OpType != "Constant"));
                (outsideOps.Count == 0 ? inScope : outside).Add(c);
            }
        }
        foreach (var id in skips.Keys)
            if (!inScope.Concat(outside).Any(c => c.Id == id)) problems.Add($"skip entry '{id}' names no test directory");
        return new Catalogue(inScope, outside, skips, problems);
    }

    /// <summary>Shape computations the importer folds: in scope with the runtime's operators.</summary>
    private static readonly HashSet<string> ShapeOps = ["Constant", "Shape", "Size", "ConstantOfShape", "Range"];

    /// <summary>The library: the runtime's operators, the shape computations folded at import and the reductions the importer
    /// rewrites.</summary>
    public static bool InLibrary(string op) => ShapeOps.Contains(op) || global::VulkanCnn.Ops.OperatorRegistry.TryGet(op, out _)
        || global::VulkanCnn.Onnx.ModelConverter.ReduceNorms.Contains(op);

    private static Dictionary<string, SkipEntry> ReadSkips(out List<string> problems)
    {
        problems = new List<string>();
        var skips = new Dictionary<string, SkipEntry>(StringComparer.Ordinal);
        if (!File.Exists(SkipFile)) return skips;
        foreach (var (raw, number) in File.ReadLines(SkipFile).Select((l, i) => (l, i + 1)))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split('|', 3, StringSplitOptions.TrimEntries);
            if (parts.Length < 2) { problems.Add($"conformance-skips.txt:{number}: expected 'case | category | detail'"); continue; }
            string category = parts[1];
            var entry = new SkipEntry(parts[0], category, parts.Length > 2 ? parts[2] : "");
            if (!entry.HasFixedReason)
                problems.Add($"conformance-skips.txt:{number}: '{category}' is not one of the fixed reasons: " +
                    $"{string.Join(", ", Categories)} (known operator bug: <what>)");
            if (!skips.TryAdd(parts[0], entry))
                problems.Add($"conformance-skips.txt:{number}: '{parts[0]}' is listed twice");
        }
        return skips;
    }

    /// <summary>Imports and runs one case and records its outcome (a listed case that fails is skipped; one that passes is
    /// stale).</summary>
    public static CaseOutcome Run(GpuDevice device, ConformanceCase c)
    {
        CaseOutcome outcome;
        Worst = null;
        Contract = null;
        try
        {
            double worst = Execute(device, c, out double tolerance);
            outcome = worst <= tolerance
                ? new CaseOutcome(c.Id, CaseOutcome.Passed, worst, Contract ?? $"worst scaled error {worst:E2} (tolerance {tolerance:E0})")
                : new CaseOutcome(c.Id, CaseOutcome.Failed, worst,
                    $"worst scaled error {worst:E3} exceeds the tolerance {tolerance:E0}: {Worst}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            outcome = new CaseOutcome(c.Id, CaseOutcome.Failed, double.NaN, $"{e.GetType().Name}: {e.Message}");
        }
        if (Cases.Skips.TryGetValue(c.Id, out var skip))
            outcome = !skip.HasFixedReason
                ? outcome with
                {
                    Status = CaseOutcome.Failed,
                    Message = $"skipped for '{skip.Category}', which is not one of the fixed reasons [{outcome.Message}]"
                }
                : outcome.Status == CaseOutcome.Passed
                ? outcome with
                {
                    Status = CaseOutcome.Failed,
                    Message = $"passes but is listed in conformance-skips.txt ({skip.Category}); remove the entry"
                }
                : outcome with { Status = CaseOutcome.Skipped, Message = $"{skip.Category}: {skip.Detail} [{outcome.Message}]" };
        Outcomes[c.Id] = outcome;
        return outcome;
    }

    /// <summary>
    /// Returns the worst error scaled by max(1, max|expected|) over every output. Every input
    /// starts as a runtime input (integers as float values); an input that an operator needs as a
    /// constant (Conv's weights, Reshape's shape, Gather's indices …) is bound at import and the
    /// case tried again, as a model would carry it as an initializer.
    /// </summary>
    private static double Execute(GpuDevice device, ConformanceCase c, out double tolerance)
    {
        tolerance = c.SingleNode ? Tolerance.Op : Tolerance.Network;
        string modelPath = Path.Combine(c.Directory, "model.onnx");
        var model = OnnxImporter.ReadModel(File.ReadAllBytes(modelPath), modelPath);
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet();
        var declared = model.Graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        string data = Path.Combine(c.Directory, "test_data_set_0");

        var runtime = new Dictionary<string, HostTensor>();
        for (int i = 0; File.Exists(Path.Combine(data, $"input_{i}.pb")); i++)
        {
            var proto = ReadProto(Path.Combine(data, $"input_{i}.pb"));
            string name = proto.Name.Length > 0 ? proto.Name : declared[i].Name;
            var tensor = ReadTensor(proto, data);
            if (!(tensor.IsEmpty && tensor.IsInteger) && tensor.ToConstant() is { } value) { runtime[name] = value; continue; }
            // An empty integer input (ReduceSum's axes …) is shape-like data, never a GPU tensor: a constant, carried
            // as an initializer as a model would (the importer reads an empty optional input as omitted).
            // An empty float input is a runtime input like any other (the runtime gives it no buffer).
            var initializer = proto.Clone();
            initializer.Name = name;
            model.Graph.Initializer.Add(initializer);
        }
        byte[] modelBytes = Google.Protobuf.MessageExtensions.ToByteArray(model);
        var bound = new Dictionary<string, HostTensor>();
        for (int attempt = 0; ; attempt++)
        {
            try { return Compare(device, modelBytes, c.Directory, data, runtime, bound); }
            catch (GraphException e) when (e is UnsupportedOperatorException or UnsupportedAttributeException && attempt < 8)
            {
                var names = NeedConstant(e, model).Where(runtime.ContainsKey).ToList();
                if (names.Count == 0) throw;
                foreach (var name in names) { bound[name] = runtime[name]; runtime.Remove(name); }
            }
        }
    }

    private static readonly Regex ConstantProblem = new(
        @"node '(?<node>[^']*)'(?:, opset \d+\))?:? (?:input (?<index>\d+) \([^)]*\) must be a constant|depends on runtime data)");

    /// <summary>Graph values the problems say must be constants: the named input of the named node (every input for "depends on runtime
    /// data").</summary>
    private static IEnumerable<string> NeedConstant(GraphException e, ModelProto model)
    {
        var problems = e is UnsupportedOperatorException u ? u.Problems : [e.Message];
        foreach (var problem in problems)
            foreach (Match m in ConstantProblem.Matches(problem))
            {
                var nodes = model.Graph.Node.Select((n, k) => (n, name: n.Name.Length > 0 ? n.Name : $"{n.OpType}_{k}"));
                var node = nodes.FirstOrDefault(p => p.name == m.Groups["node"].Value).n;
                if (node is null) continue;
                if (m.Groups["index"].Success)
                {
                    int index = int.Parse(m.Groups["index"].Value);
                    if (index < node.Input.Count) yield return node.Input[index];
                }
                else foreach (var input in node.Input) yield return input;
            }
    }

    private static double Compare(GpuDevice device, byte[] model, string directory, string data, Dictionary<string, HostTensor> runtime,
        Dictionary<string, HostTensor> bound)
    {
        var shapes = runtime.ToDictionary(p => p.Key, p => p.Value.Shape.Dimensions.ToArray());
        var graph = OnnxImporter.Load(new MemoryStream(model), directory,
            new OnnxImportOptions { ConstantInputs = bound, InputShapes = shapes, AlignCornersLength = AlignCornersLength.ScaledLength });
        IReadOnlyDictionary<string, HostTensor> results = new Dictionary<string, HostTensor>();
        if (graph.Outputs.Any(o => !graph.Initializers.ContainsKey(o)))
        {
            if (graph.Inputs.Count == 0) throw new InvalidDataException("every input is bound at import; nothing runs on the GPU");
            // The runtime computes what the GPU must; outputs folded to constants at import are read as they are.
            var computed = graph.Clone();
            computed.Outputs.RemoveAll(graph.Initializers.ContainsKey);
            using var session = device.Compile(computed);
            results = session.Run(runtime);
        }
        double worst = 0;
        var outputs = new List<HostTensor>();
        for (int k = 0; k < graph.Outputs.Count; k++)
        {
            var expected = ReadTensor(ReadProto(Path.Combine(data, $"output_{k}.pb")), data);
            string name = graph.Outputs[k];
            var actual = graph.Initializers.TryGetValue(name, out var constant) ? constant : results[name];
            var actualDims = actual.Shape.Dimensions.ToArray().Select(d => (long)d).ToArray();
            if (!actualDims.SequenceEqual(expected.Dims))
                throw new InvalidDataException($"output '{name}' has shape [{string.Join(", ", actualDims)}]; expected " +
                    $"[{string.Join(", ", expected.Dims)}]");
            outputs.Add(actual);
            if (RandomDropout(graph) is not null) continue;   // checked by its contract below
            double error = ScaledError(expected.AsFloats(), actual.AsFloats(), out int at);
            if (error > worst)
            {
                worst = error; Worst = $"output '{name}'[{at}]: expected {expected.AsFloats()[at]:R}, got " +
                $"{actual.AsFloats()[at]:R}";
            }
        }
        if (RandomDropout(graph) is { } d)
            Contract = CheckDropoutContract(runtime[d.Node.Inputs[0]].AsFloats(), d.Ratio, outputs[0].AsFloats(), outputs.Count > 1
                ? outputs[1].AsFloats() : null);
        return worst;
    }

    /// <summary>A lone Dropout with a constant true training_mode and ratio &gt; 0: its expected mask comes from numpy's RNG.</summary>
    private static (Node Node, float Ratio)? RandomDropout(VulkanCnn.Ir.Graph graph)
    {
        if (graph.Nodes is not [{ OpType: "Dropout" } d] || !d.HasInput(2) || !graph.Initializers.TryGetValue(d.Inputs[2], out var mode)
            || mode.AsFloats() is not [not 0f])
            return null;
        float ratio = d.HasInput(1) ? graph.Initializers[d.Inputs[1]].AsFloats()[0] : d.Attributes.Float("ratio", 0.5f);
        return ratio > 0 ? (d, ratio) : null;
    }

    /// <summary>
    /// Dropout's contract, where numpy's random mask cannot be matched bit for bit: every output is 0
    /// or x / (1 − ratio), the mask (1 = kept) agrees with the output, and the dropped fraction lies
    /// within five binomial standard deviations of the ratio.
    /// </summary>
    private static string CheckDropoutContract(float[] x, float ratio, float[] y, float[]? mask)
    {
        double scale = 1 / (1 - (double)ratio);
        int dropped = 0;
        for (int i = 0; i < x.Length; i++)
        {
            bool zero = y[i] == 0, kept = Math.Abs(y[i] - x[i] * scale) <= Tolerance.Op * Math.Max(1, Math.Abs(x[i] * scale));
            if (!zero
                && !kept) throw new InvalidDataException($"dropout contract: y[{i}] = {y[i]:R} is neither 0 nor x / (1 - ratio) = " +
                    $"{x[i] * scale:R}");
            if (mask is not null && (mask[i] is not (0f or 1f) || mask[i] == 1 && !kept || mask[i] == 0 && !zero))
                throw new InvalidDataException(
                    $"dropout contract: mask[{i}] = {mask[i]:R} disagrees with y[{i}] = {y[i]:R} (x = {x[i]:R})");
            if (mask is not null ? mask[i] == 0 : zero && !kept) dropped++;
        }
        double n = x.Length, sigma = Math.Sqrt(n * ratio * (1 - ratio));
        if (Math.Abs(dropped - n * ratio) > 5 * sigma)
            throw new InvalidDataException($"dropout contract: {dropped} of {x.Length} dropped, outside ratio {ratio} ± 5σ " +
                $"({n * ratio:F1} ± {5 * sigma:F1})");
        return $"contract check, not an exact comparison (numpy's random mask): outputs 0 or " +
            $"x/(1-ratio){(mask is null ? "" : ", mask consistent")}, " +
            $"{dropped}/{x.Length} dropped (ratio {ratio} ± 5σ = {n * ratio:F1} ± {5 * sigma:F1})";
    }

    [ThreadStatic] private static string? Worst, Contract;

    private static double ScaledError(float[] expected, float[] actual, out int at)
    {
        double scale = 1, worst = 0;
        at = 0;
        foreach (float e in expected) if (float.IsFinite(e)) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) && float.IsNaN(a) || float.IsInfinity(e) && e == a) continue;
            double d = Math.Abs((double)e - a);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            if (d > worst) { worst = d; at = i; }
        }
        return worst / scale;
    }

    private static TensorProto ReadProto(string path) => OnnxImporter.ReadTensorProto(File.ReadAllBytes(path), path);

    private static CpuTensor ReadTensor(TensorProto proto, string dir) => new TensorReader(dir, dir, new OnnxImportOptions()).Read(proto);
}
