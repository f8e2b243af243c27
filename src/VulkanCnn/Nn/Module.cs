namespace VulkanCnn.Nn;

/// <summary>
/// A building block with PyTorch semantics: owns parameters and child modules, and lowers
/// itself to IR nodes in <see cref="Forward"/>. Subclass it for residual or branching nets,
/// calling children with <c>g.Call(child, x)</c>.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Parameter Parameter)> _parameters = new();
    private readonly List<(string Name, Module Module)> _children = new();

    /// <summary>Lowers the module applied to <paramref name="x"/>.</summary>
    public abstract Value Forward(GraphBuilder g, Value x);

    protected Parameter RegisterParameter(string name, Parameter parameter)
    {
        _parameters.Add((name, parameter));
        return parameter;
    }

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        _children.Add((name, module));
        return module;
    }

    /// <summary>Every parameter by dotted path (PyTorch <c>state_dict</c> names); also names them.</summary>
    public IReadOnlyDictionary<string, Parameter> StateDict()
    {
        var result = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        Collect("", result);
        return result;
    }

    private void Collect(string prefix, Dictionary<string, Parameter> into)
    {
        foreach (var (name, p) in _parameters)
        {
            p.Name = prefix + name;
            into[p.Name] = p;
        }
        foreach (var (name, child) in _children) child.Collect(prefix + name + ".", into);
    }

    /// <summary>Freezes (or unfreezes) every parameter of this module and its children, e.g. a pretrained backbone.</summary>
    public void Freeze(bool frozen = true)
    {
        foreach (var p in StateDict().Values)
            if (!(p.Name.EndsWith("running_mean", StringComparison.Ordinal) || p.Name.EndsWith("running_var", StringComparison.Ordinal)))
                p.RequiresGrad = !frozen;
    }

    /// <summary>Total number of parameter values.</summary>
    public long ParameterCount => StateDict().Values.Sum(p => p.Shape.ElementCount);
}

/// <summary>Children applied one after another; named "0", "1", … as in PyTorch.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _modules = new();

    public Sequential(params Module[] modules)
    {
        for (int i = 0; i < modules.Length; i++) _modules.Add(RegisterModule(i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            modules[i]));
    }

    public IReadOnlyList<Module> Modules => _modules;

    public override Value Forward(GraphBuilder g, Value x)
    {
        foreach (var m in _modules) x = g.Call(m, x);
        return x;
    }
}
