namespace Nabla.Layers;

/// <summary>
/// The base of the augmentation layers (RandomFlip, RandomTranslation, RandomRotation, RandomZoom,
/// RandomCrop, RandomContrast): on images [N, C, H, W] they draw a random change per image in
/// training and pass the images through unchanged otherwise (RandomCrop crops the centre). With a
/// seed a layer draws from its own generator, so a run is repeatable; without one it draws from
/// <see cref="Generator.Default"/>. In data-parallel training every rank draws the whole global
/// batch's changes and keeps its rows, so the augmentation does not depend on the rank count.
/// </summary>
public abstract class RandomImageLayer : Layer
{
    private readonly Generator? _generator;

    /// <summary>Creates the layer; <paramref name="seed"/> gives it a generator of its own.</summary>
    protected RandomImageLayer(int? seed, string? name) : base(name)
    {
        Seed = seed;
        if (seed is int s) _generator = new Generator((ulong)s);
    }

    /// <summary>The seed of the layer's own generator, or null for the default one.</summary>
    public int? Seed { get; }

    /// <summary>
    /// <paramref name="perImage"/> uniform numbers in [0, 1) for each of the <paramref name="images"/>
    /// images of the batch, drawn as for the whole global batch.
    /// </summary>
    protected float[] Draw(int images, int perImage) => Distributed.BatchShard.DrawRows(_generator ?? Generator.Default, images, perImage);

    /// <summary>A draw in [0, 1) mapped to [-<paramref name="factor"/>, <paramref name="factor"/>].</summary>
    protected static float Symmetric(float u, float factor) => (2 * u - 1) * factor;

    /// <inheritdoc/>
    protected sealed override Tensor Call(Tensor input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Label} expects images [N, C, H, W], got {input.ShapeString}.");
        return IsTraining ? Augment(input) : Infer(input);
    }

    /// <summary>The random change, in training.</summary>
    protected abstract Tensor Augment(Tensor images);

    /// <summary>Outside training: the images as they are (RandomCrop overrides it).</summary>
    protected virtual Tensor Infer(Tensor images) => images;

    /// <summary>Throws unless <paramref name="factor"/> is in [0, <paramref name="max"/>], naming the argument.</summary>
    protected void CheckFactor(float factor, string what, float max = 1f)
    {
        if (!(factor >= 0 && factor <= max)) throw new ArgumentOutOfRangeException(what, $"{Label}: {what} must be in [0, {max}], not {factor}.");
    }
}
