using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Onnx;

/// <summary>
/// Evaluates, on the CPU at import, the nodes of shape computations whose inputs are all known
/// (Shape → Gather → Unsqueeze → Concat → Reshape …), so the runtime sees int64 constants where
/// its operators need them. The split with the runtime's constant folding (Compiler/Passes/FoldConstants):
/// shape arithmetic — any value computed from a shape or an integer, including the float steps
/// exporters put in it (Upsample scales are Div(Cast(sizes), Cast(Shape))) — and exact data movement
/// fold here, because the runtime has no int64 tensors and shape inference needs them at import;
/// <see cref="Arithmetic"/> on float data (weights, float constants) is left to the runtime, which
/// folds it through the operators themselves on the GPU.
/// </summary>
internal static class CpuFolding
{
    /// <summary>Op types evaluated here. Shape and Size also fold over runtime values whose shape is known.</summary>
    public static readonly HashSet<string> Ops =
    [
        "Identity", "Shape", "Size", "Cast", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Gather", "Slice",
        "Transpose", "Expand", "ConstantOfShape", "Range", "Tile",
        "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Min", "Max", "Sum", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
        "And", "Or", "Xor", "Where", "Neg", "Abs", "Sqrt", "Floor", "Ceil", "Reciprocal", "Not", "Sign", "Round",
        "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax",
    ];

    /// <summary>Ops that compute new values (not data movement): on float data they are the runtime's to fold.</summary>
    public static readonly HashSet<string> Arithmetic =
    [
        "Cast", "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Min", "Max", "Sum", "Neg", "Abs", "Sqrt", "Floor", "Ceil", "Reciprocal",
        "Sign", "Round", "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax",
    ];

    /// <summary>Op types only the importer implements: they must fold, or the model needs runtime data the library cannot
    /// compute.</summary>
    public static readonly HashSet<string> ImportOnly = [.. Ops.Where(o => !global::VulkanCnn.Ops.OperatorRegistry.IsSupported(o))];

    /// <summary>Thrown for an input or attribute the folder does not handle: the node is left to the runtime.</summary>
    public sealed class CannotFold(string message) : Exception(message);

    public static CpuTensor[] Evaluate(Node n, IReadOnlyList<CpuTensor?> inputs, long[]? runtimeShape0, long limit)
    {
        CpuTensor In(int i) => i < inputs.Count && inputs[i] is { } t ? t : throw new CannotFold($"input {i} is not known");
        CpuTensor? Opt(int i) => n.HasInput(i) ? In(i) : null;
        var a = n.Attributes;
        CpuTensor result = n.OpType switch
        {
            "Identity" => In(0),
            "Shape" => ShapeOf(runtimeShape0 ?? In(0).Dims, a),
            "Size" => CpuTensor.Of([], [CpuTensor.Count(runtimeShape0 ?? In(0).Dims)]),
            "Cast" => Cast(In(0), a.Int("to", 1)),
            "Reshape" =>
                Reshape(In(0), n.HasInput(1) ? In(1).AsInts() : a.Ints("shape") ?? throw new CannotFold("no shape"),
                    a.Int("allowzero", 0) != 0),
            "Flatten" => Flatten(In(0), a.Int("axis", 1)),
            "Squeeze" => Squeeze(In(0), a.Ints("axes") ?? Opt(1)?.AsInts()),
            "Unsqueeze" => Unsqueeze(In(0), a.Ints("axes") ?? In(1).AsInts()),
            "Concat" => Concat(Bounded(Enumerable.Range(0, n.Inputs.Count).Where(n.HasInput).Select(In).ToList(), limit), a.Int("axis", 1)),
            "Gather" => Gather(Bounded([In(0)], limit)[0], In(1), a.Int("axis", 0)),
            "Slice" => Slice(n, In(0), Opt),
            "Transpose" => Transpose(In(0), a.Ints("perm")),
            "Expand" => Broadcast.Map([In(0)], limit, v => v[0], In(0).IsInteger, In(1).AsInts()),
            "ConstantOfShape" => ConstantOfShape(In(0).AsInts(), a.Tensor("value"), limit),
            "Range" => Range(In(0), In(1), In(2), limit),
            "Tile" => Tile(In(0), In(1).AsInts(), limit),
            "Add" or "Sum" => Variadic(n, inputs, limit, (x, y) => x + y),
            "Sub" => Binary(In(0), In(1), limit, (x, y) => x - y),
            "Mul" => Binary(In(0), In(1), limit, (x, y) => x * y),
            "Div" => Binary(In(0), In(1), limit, (x, y) => In(0).IsInteger && In(1).IsInteger ? Math.Truncate(x / y) : x / y),
            "Pow" => Broadcast.Map([In(0), In(1)], limit, v => Math.Pow(v[0], v[1]), In(0).IsInteger),
            "Mod" => Binary(In(0), In(1), limit, a.Int("fmod", 0) != 0 ? (x, y) => x % y : (x, y) => x - y * Math.Floor(x / y)),
            "Min" => Variadic(n, inputs, limit, Math.Min),
            "Max" => Variadic(n, inputs, limit, Math.Max),
            "Equal" => Compare(In(0), In(1), limit, (x, y) => x == y),
            "Less" => Compare(In(0), In(1), limit, (x, y) => x < y),
            "Greater" => Compare(In(0), In(1), limit, (x, y) => x > y),
            "LessOrEqual" => Compare(In(0), In(1), limit, (x, y) => x <= y),
            "GreaterOrEqual" => Compare(In(0), In(1), limit, (x, y) => x >= y),
            "And" => Compare(In(0), In(1), limit, (x, y) => x != 0 && y != 0),
            "Or" => Compare(In(0), In(1), limit, (x, y) => x != 0 || y != 0),
            "Xor" => Compare(In(0), In(1), limit, (x, y) => (x != 0) ^ (y != 0)),
            "Where" => Broadcast.Map([In(0), In(1), In(2)], limit, v => v[0] != 0 ? v[1] : v[2], In(1).IsInteger && In(2).IsInteger),
            "Neg" => Unary(In(0), x => -x),
            "Abs" => Unary(In(0), Math.Abs),
            "Sqrt" => Unary(In(0), Math.Sqrt),
            "Floor" => Unary(In(0), Math.Floor),
            "Ceil" => Unary(In(0), Math.Ceiling),
            "Round" => Unary(In(0), x => Math.Round(x, MidpointRounding.ToEven)),
            "Reciprocal" => Unary(In(0), x => 1 / x),
            "Sign" => Unary(In(0), x => Math.Sign(x)),
            "Not" => Broadcast.Map([In(0)], limit, v => v[0] == 0 ? 1 : 0, integer: true),
            "ReduceProd" or "ReduceSum" or "ReduceMin" or "ReduceMax" => Reduce(n, In(0), Opt(1)),
            _ => throw new CannotFold($"{n.OpType} is not folded"),
        };
        // Pure data movement is linear in its input and allocates only its typed result; anything else is bounded.
        if (result.Length > limit
            && n.OpType is not ("Identity" or "Cast" or "Reshape" or "Flatten" or "Squeeze" or "Unsqueeze" or "Transpose" or "Slice"))
            throw new CannotFold($"the result has {result.Length} elements, over the import folding limit of {limit}");
        return [result];
    }

    /// <summary>Ops that build their result through doubles fold only bounded inputs.</summary>
    private static List<CpuTensor> Bounded(List<CpuTensor> inputs, long limit) =>
        inputs.Sum(t => t.Length) <= limit ? inputs
            : throw new CannotFold($"inputs of {inputs.Sum(t => t.Length)} elements exceed the folding limit of {limit}");

    private static CpuTensor ShapeOf(long[] dims, Attributes a)
    {
        int rank = dims.Length;
        long start = a.Int("start", 0), end = a.Int("end", rank);
        start = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        end = Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        var s = dims.Skip((int)start).Take((int)Math.Max(0, end - start)).ToArray();
        return CpuTensor.Of([s.Length], s);
    }

    private static CpuTensor Cast(CpuTensor x, long to)
    {
        if (to is 1 or 10 or 11 or 16) return CpuTensor.Of(x.Dims, x.AsFloats());
        if (to == 9) return CpuTensor.Of(x.Dims, x.AsDoubles().Select(v => v != 0 ? 1L : 0L).ToArray());
        if (to is 2 or 3 or 4 or 5 or 6 or 7 or 12 or 13)
            return CpuTensor.Of(x.Dims, x.IsInteger ? x.Ints!
                : x.Floats!.Select(v => float.IsFinite(v) ? (long)MathF.Truncate(v) : 0).ToArray());
        throw new CannotFold($"Cast to type {to}");
    }

    private static CpuTensor Reshape(CpuTensor x, long[] shape, bool allowZero)
    {
        var dims = new long[shape.Length];
        int infer = -1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1) { if (infer >= 0) throw new CannotFold("two -1 in shape"); infer = i; dims[i] = 1; }
            else if (shape[i] == 0 && !allowZero) dims[i] = i < x.Rank ? x.Dims[i] : throw new CannotFold("0 past the input rank");
            else if (shape[i] < 0) throw new CannotFold($"shape value {shape[i]}");
            else dims[i] = shape[i];
        }
        if (infer >= 0)
        {
            long known = CpuTensor.Count(dims);
            if (known == 0 || x.Length % known != 0) throw new CannotFold("cannot infer -1");
            dims[infer] = x.Length / known;
        }
        if (CpuTensor.Count(dims) != x.Length) throw new CannotFold($"cannot reshape {x} to [{string.Join(", ", shape)}]");
        return With(x, dims);
    }

    private static CpuTensor Flatten(CpuTensor x, long axis)
    {
        if (axis < 0) axis += x.Rank;
        if (axis < 0 || axis > x.Rank) throw new CannotFold("axis out of range");
        return With(x, [CpuTensor.Count(x.Dims.Take((int)axis)), CpuTensor.Count(x.Dims.Skip((int)axis))]);
    }

    private static CpuTensor Squeeze(CpuTensor x, long[]? axes)
    {
        if (axes is null) return With(x, x.Dims.Where(d => d != 1).ToArray());
        var drop = axes.Select(v => Axis(v, x.Rank)).ToHashSet();
        if (drop.Any(i => x.Dims[i] != 1)) throw new CannotFold("squeezing an axis that is not 1");
        return With(x, x.Dims.Where((_, i) => !drop.Contains(i)).ToArray());
    }

    private static CpuTensor Unsqueeze(CpuTensor x, long[] axes)
    {
        int rank = x.Rank + axes.Length;
        var insert = axes.Select(v => Axis(v, rank)).ToHashSet();
        if (insert.Count != axes.Length) throw new CannotFold("repeated axis");
        var dims = new long[rank];
        for (int i = 0, next = 0; i < rank; i++) dims[i] = insert.Contains(i) ? 1 : x.Dims[next++];
        return With(x, dims);
    }

    private static CpuTensor Concat(List<CpuTensor> parts, long axisAttr)
    {
        var nonEmpty = parts.Where(p => !(p.Rank == 1 && p.Length == 0) || parts.All(q => q.Rank == 1)).ToList();
        var first = nonEmpty[0];
        int axis = Axis(axisAttr, first.Rank);
        bool integer = nonEmpty.All(p => p.IsInteger);
        var dims = (long[])first.Dims.Clone();
        dims[axis] = nonEmpty.Sum(p => p.Rank == first.Rank ? p.Dims[axis] : throw new CannotFold("rank mismatch"));
        long outer = CpuTensor.Count(first.Dims.Take(axis)), inner = CpuTensor.Count(first.Dims.Skip(axis + 1));
        var values = new List<double>();
        for (long o = 0; o < outer; o++)
            foreach (var p in nonEmpty)
            {
                long run = p.Dims[axis] * inner;
                for (long k = 0; k < run; k++) values.Add(p[o * run + k]);
            }
        return Make(dims, values, integer);
    }

    private static CpuTensor Gather(CpuTensor data, CpuTensor indices, long axisAttr)
    {
        int axis = Axis(axisAttr, data.Rank);
        long dim = data.Dims[axis];
        long outer = CpuTensor.Count(data.Dims.Take(axis)), inner = CpuTensor.Count(data.Dims.Skip(axis + 1));
        var idx = indices.AsInts();
        var values = new List<double>();
        for (long o = 0; o < outer; o++)
            foreach (long raw in idx)
            {
                long i = raw < 0 ? raw + dim : raw;
                if (i < 0 || i >= dim) throw new CannotFold($"index {raw} out of range");
                for (long k = 0; k < inner; k++) values.Add(data[(o * dim + i) * inner + k]);
            }
        return Make([.. data.Dims.Take(axis), .. indices.Dims, .. data.Dims.Skip(axis + 1)], values, data.IsInteger);
    }

    private static CpuTensor Slice(Node n, CpuTensor x, Func<int, CpuTensor?> opt)
    {
        var a = n.Attributes;
        long[] starts, ends;
        long[]? axes, steps = null;
        if (a.Ints("starts") is { } s) { starts = s; ends = a.Ints("ends") ?? throw new CannotFold("no ends"); axes = a.Ints("axes"); }
        else
        {
            starts = opt(1)?.AsInts() ?? throw new CannotFold("no starts");
            ends = opt(2)?.AsInts() ?? throw new CannotFold("no ends");
            axes = opt(3)?.AsInts();
            steps = opt(4)?.AsInts();
        }
        int rank = x.Rank;
        long[] begin = new long[rank], step = Enumerable.Repeat(1L, rank).ToArray(), count = (long[])x.Dims.Clone();
        for (int k = 0; k < starts.Length; k++)
        {
            int ax = Axis(axes is null ? k : axes[k], rank);
            long dim = x.Dims[ax], st = steps is null ? 1 : steps[k];
            if (st == 0) throw new CannotFold("step 0");
            long b = starts[k], e = ends[k];
            b = b < 0 ? b + dim : b;
            e = e < 0 ? e + dim : e;
            if (st > 0) { b = Math.Clamp(b, 0, dim); e = Math.Clamp(e, 0, dim); count[ax] = Math.Max(0, (e - b + st - 1) / st); }
            else { b = Math.Clamp(b, 0, dim - 1); e = Math.Clamp(e, -1, dim - 1); count[ax] = Math.Max(0, (b - e + (-st) - 1) / -st); }
            begin[ax] = b;
            step[ax] = st;
        }
        return Gathered(x, count, o => begin[o.Axis] + o.Index * step[o.Axis]);
    }

    private static CpuTensor Transpose(CpuTensor x, long[]? perm)
    {
        perm ??= Enumerable.Range(0, x.Rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != x.Rank || perm.Distinct().Count() != x.Rank
            || perm.Any(p => p < 0 || p >= x.Rank)) throw new CannotFold("bad perm");
        var strides = Strides(x.Dims);
        return Picked(x, perm.Select(p => x.Dims[p]).ToArray(), (index, src) =>
        {
            for (int d = 0; d < index.Length; d++) src += index[d] * strides[perm[d]];
            return src;
        });
    }

    private static CpuTensor ConstantOfShape(long[] shape, HostTensor? value, long limit)
    {
        if (shape.Any(d => d < 0)) throw new CannotFold("negative dimension");
        long count = CpuTensor.Count(shape.Select(d => Math.Min(d, limit + 1)));
        if (count > limit) throw new CannotFold($"{count} elements exceed the folding limit");
        if (value is { IsInteger: true }) return CpuTensor.Of(shape, Enumerable.Repeat(value.Ints![0], (int)count).ToArray());
        return CpuTensor.Of(shape, Enumerable.Repeat(value?.Floats![0] ?? 0f, (int)count).ToArray());
    }

    private static CpuTensor Range(CpuTensor start, CpuTensor limitT, CpuTensor delta, long limit)
    {
        double s = start[0], l = limitT[0], d = delta[0];
        if (d == 0) throw new CannotFold("delta 0");
        double n = Math.Max(Math.Ceiling((l - s) / d), 0);
        if (n > limit) throw new CannotFold("range too long");
        var values = Enumerable.Range(0, (int)n).Select(i => s + i * d).ToList();
        return Make([values.Count], values, start.IsInteger);
    }

    private static CpuTensor Tile(CpuTensor x, long[] repeats, long limit)
    {
        var dims = x.Dims.Select((d, i) => d * repeats[i]).ToArray();
        if (CpuTensor.Count(dims.Select(d => Math.Min(d, limit + 1))) > limit) throw new CannotFold("tile too large");
        return Gathered(x, dims, o => o.Index % x.Dims[o.Axis]);
    }

    private static CpuTensor Reduce(Node n, CpuTensor x, CpuTensor? axesInput)
    {
        long[]? axes = n.Attributes.Ints("axes") ?? axesInput?.AsInts();
        bool keep = n.Attributes.Int("keepdims", 1) != 0;
        if (axes is { Length: 0 }) axes = null;
        if (axes is null && n.Attributes.Int("noop_with_empty_axes", 0) != 0) return x;
        var reduced = axes is null ? Enumerable.Range(0, x.Rank).ToHashSet() : axes.Select(v => Axis(v, x.Rank)).ToHashSet();
        var outDims = x.Dims.Select((d, i) => reduced.Contains(i) ? 1 : d).ToArray();
        double seed = n.OpType switch
        {
            "ReduceProd" => 1,
            "ReduceSum" => 0,
            "ReduceMin" => double.PositiveInfinity,
            _ =>
            double.NegativeInfinity
        };
        var acc = Enumerable.Repeat(seed, (int)CpuTensor.Count(outDims)).ToArray();
        var outStrides = Strides(outDims);
        var index = new long[x.Rank];
        for (long i = 0; i < x.Length; i++)
        {
            long o = 0;
            for (int d = 0; d < x.Rank; d++) o += (reduced.Contains(d) ? 0 : index[d]) * outStrides[d];
            double v = x[i];
            acc[o] = n.OpType switch
            {
                "ReduceProd" => acc[o] * v,
                "ReduceSum" => acc[o] + v,
                "ReduceMin" => Math.Min(acc[o], v),
                _ =>
                Math.Max(acc[o], v)
            };
            Next(index, x.Dims);
        }
        var dims = keep ? outDims : x.Dims.Where((_, i) => !reduced.Contains(i)).ToArray();
        return Make(dims, acc, x.IsInteger);
    }

    private static CpuTensor Variadic(Node n, IReadOnlyList<CpuTensor?> inputs, long limit, Func<double, double, double> f)
    {
        var present = Enumerable.Range(0, n.Inputs.Count).Where(n.HasInput).Select(i => inputs[i]
            ?? throw new CannotFold("unknown input")).ToList();
        var acc = present[0];
        foreach (var next in present.Skip(1)) acc = Binary(acc, next, limit, f);
        return acc;
    }

    private static CpuTensor Binary(CpuTensor x, CpuTensor y, long limit, Func<double, double, double> f) =>
        Broadcast.Map([x, y], limit, v => f(v[0], v[1]), x.IsInteger && y.IsInteger);

    private static CpuTensor Compare(CpuTensor x, CpuTensor y, long limit, Func<double, double, bool> f) =>
        Broadcast.Map([x, y], limit, v => f(v[0], v[1]) ? 1 : 0, integer: true);

    private static CpuTensor Unary(CpuTensor x, Func<double, double> f) => Make(x.Dims, x.AsDoubles().Select(f).ToList(), x.IsInteger);

    private readonly record struct Position(int Axis, long Index);

    /// <summary>Output of <paramref name="dims"/> whose element takes, on each axis, the input index <paramref name="source"/>
    /// gives.</summary>
    private static CpuTensor Gathered(CpuTensor x, long[] dims, Func<Position, long> source)
    {
        var strides = Strides(x.Dims);
        return Picked(x, dims, (index, src) =>
        {
            for (int d = 0; d < index.Length; d++) src += source(new Position(d, index[d])) * strides[d];
            return src;
        });
    }

    /// <summary>Copies element <c>source(index)</c> of <paramref name="x"/> to each output index, in x's own type (no widening
    /// copy).</summary>
    private static CpuTensor Picked(CpuTensor x, long[] dims, Func<long[], long, long> source)
    {
        long count = CpuTensor.Count(dims);
        var index = new long[dims.Length];
        if (x.Ints is { } ints)
        {
            var o = new long[count];
            for (long i = 0; i < count; i++, Next(index, dims)) o[i] = ints[source(index, 0)];
            return CpuTensor.Of(dims, o);
        }
        var f = new float[count];
        var floats = x.Floats!;
        for (long i = 0; i < count; i++, Next(index, dims)) f[i] = floats[source(index, 0)];
        return CpuTensor.Of(dims, f);
    }

    internal static long[] Strides(long[] dims)
    {
        var s = new long[dims.Length];
        long acc = 1;
        for (int d = dims.Length - 1; d >= 0; d--) { s[d] = acc; acc *= dims[d]; }
        return s;
    }

    internal static void Next(long[] index, long[] dims)
    {
        for (int d = dims.Length - 1; d >= 0; d--)
        {
            if (++index[d] < dims[d]) return;
            index[d] = 0;
        }
    }

    private static int Axis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? (int)a : throw new CannotFold($"axis {axis} out of range for rank {rank}");
    }

    private static CpuTensor With(CpuTensor x, long[] dims) => x.Ints is { } i ? CpuTensor.Of(dims, i) : CpuTensor.Of(dims, x.Floats!);

    internal static CpuTensor Make(long[] dims, IReadOnlyList<double> values, bool integer) => integer
        ? CpuTensor.Of(dims, values.Select(v => double.IsFinite(v) ? (long)v : 0).ToArray())
        : CpuTensor.Of(dims, values.Select(v => (float)v).ToArray());
}

/// <summary>NumPy-style multidirectional broadcasting over CPU tensors.</summary>
internal static class Broadcast
{
    public static CpuTensor Map(IReadOnlyList<CpuTensor> inputs, long limit, Func<double[], double> f, bool integer, long[]? outDims = null)
    {
        int rank = Math.Max(inputs.Max(t => t.Rank), outDims?.Length ?? 0);
        var dims = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            long size = outDims is not null && d - (rank - outDims.Length) >= 0 ? outDims[d - (rank - outDims.Length)] : 1;
            foreach (var t in inputs)
            {
                int k = d - (rank - t.Rank);
                long v = k >= 0 ? t.Dims[k] : 1;
                if (v == size || v == 1) continue;
                if (size != 1) throw new CpuFolding.CannotFold("shapes do not broadcast");
                size = v;
            }
            dims[d] = size;
        }
        long count = CpuTensor.Count(dims.Select(d => Math.Min(d, limit + 1)));
        if (count > limit) throw new CpuFolding.CannotFold($"{count} elements exceed the folding limit");
        var strides = inputs.Select(t =>
        {
            var own = CpuFolding.Strides(t.Dims);
            return Enumerable.Range(0, rank).Select(d =>
                { int k = d - (rank - t.Rank); return k >= 0 && t.Dims[k] != 1 ? own[k] : 0; }).ToArray();
        }).ToList();
        var values = new double[count];
        var index = new long[rank];
        var args = new double[inputs.Count];
        for (long i = 0; i < count; i++)
        {
            for (int j = 0; j < inputs.Count; j++)
            {
                long src = 0;
                for (int d = 0; d < rank; d++) src += index[d] * strides[j][d];
                args[j] = inputs[j][src];
            }
            values[i] = f(args);
            CpuFolding.Next(index, dims);
        }
        return CpuFolding.Make(dims, values, integer);
    }
}
