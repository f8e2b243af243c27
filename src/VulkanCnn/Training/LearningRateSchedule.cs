namespace VulkanCnn.Training;

/// <summary>Learning rate as a function of the step (0-based), applied to the optimizer's base rate.</summary>
public abstract record LearningRateSchedule
{
    public abstract double Factor(long step);

    public double LearningRate(double baseRate, long step) => baseRate * Factor(step);

    /// <summary>Constant rate.</summary>
    public static LearningRateSchedule Constant { get; } = new ConstantSchedule();

    private sealed record ConstantSchedule : LearningRateSchedule
    {
        public override double Factor(long step) => 1;
    }
}

/// <summary>Multiply by <paramref name="Gamma"/> every <paramref name="StepSize"/> steps (torch StepLR).</summary>
public sealed record StepSchedule(long StepSize, double Gamma = 0.1) : LearningRateSchedule
{
    public override double Factor(long step) => Math.Pow(Gamma, step / StepSize);
}

/// <summary>Cosine annealing from 1 to <paramref name="MinFactor"/> over <paramref name="TotalSteps"/> (torch CosineAnnealingLR).</summary>
public sealed record CosineSchedule(long TotalSteps, double MinFactor = 0) : LearningRateSchedule
{
    public override double Factor(long step) =>
        MinFactor + (1 - MinFactor) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(step, TotalSteps) / TotalSteps));
}

/// <summary>Linear warm-up from <paramref name="StartFactor"/> to the inner schedule over <paramref name="WarmupSteps"/>.</summary>
public sealed record WarmupSchedule(long WarmupSteps, LearningRateSchedule After, double StartFactor = 0) : LearningRateSchedule
{
    public override double Factor(long step) => step < WarmupSteps
        ? (StartFactor + (1 - StartFactor) * step / WarmupSteps) * After.Factor(0)
        : After.Factor(step - WarmupSteps);
}

/// <summary>One-cycle (torch OneCycleLR, cosine): rise from 1/DivFactor to 1 over <paramref name="PctStart"/> of the
/// steps, then fall to 1/(DivFactor·FinalDivFactor).</summary>
public sealed record OneCycleSchedule(long TotalSteps, double PctStart = 0.3, double DivFactor = 25, double FinalDivFactor = 1e4)
    : LearningRateSchedule
{
    public override double Factor(long step)
    {
        double up = PctStart * TotalSteps, start = 1 / DivFactor, end = start / FinalDivFactor;
        static double Cos(double from, double to, double t) => to + (from - to) * 0.5 * (1 + Math.Cos(Math.PI * t));
        return step <= up ? Cos(start, 1, step / Math.Max(1, up)) : Cos(1, end, Math.Min(1, (step - up) / Math.Max(1, TotalSteps - up)));
    }
}
