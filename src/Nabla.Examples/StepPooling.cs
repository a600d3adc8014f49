using Nabla.Layers;

namespace Nabla.Examples;

/// <summary>Mean over the sequence axis: [N, T, D] to [N, D] (a bag of embeddings, when it follows an Embedding).</summary>
internal sealed class MeanOverSteps() : Layer(null)
{
    public override string TypeName => "MeanOverSteps";

    protected override Tensor Call(Tensor input) => input.Mean(1);
}

/// <summary>Max over the sequence axis: [N, T, D] to [N, D].</summary>
internal sealed class MaxOverSteps() : Layer(null)
{
    public override string TypeName => "MaxOverSteps";

    protected override Tensor Call(Tensor input) => input.Max(1);
}

/// <summary>Mean over the real steps of [N, T, D] (the mask of an Embedding's padding honoured): [N, D].</summary>
internal sealed class MaskedMeanOverSteps() : Layer(null)
{
    public override string TypeName => "MaskedMeanOverSteps";

    protected override Tensor Call(Tensor input) => input.Mean(1);

    protected override Tensor Call(Tensor input, Tensor mask)
    {
        Tensor m = mask.Unsqueeze(-1);
        return (input * m).Sum(1) / m.Sum(1).Clamp(min: 1f);
    }
}
