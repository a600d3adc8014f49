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
