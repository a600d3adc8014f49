using Nabla.Autograd;
using Nabla.Layers;

namespace Nabla.Tests.Layers;

/// <summary>The augmentation layers: what each change does, that it happens only in training, repeatably, and that the warp has a gradient.</summary>
public class ImageAugmentationTests
{
    private static Tensor Ramp(int n, int c, int h, int w) => Tensor.Arange(n * c * h * w).Reshape(n, c, h, w);

    [Fact]
    public void Every_augmentation_passes_images_through_outside_training()
    {
        Tensor x = Ramp(2, 1, 5, 5);
        foreach (Layer layer in new Layer[] { new RandomFlip(), new RandomTranslation(0.3f, 0.3f), new RandomRotation(0.2f), new RandomZoom(0.3f), new RandomContrast(0.5f) })
        {
            layer.Eval();
            Assert.Equal(x.ToArray(), layer.Forward(x).ToArray());
        }
        var crop = new RandomCrop(3, 3);
        crop.Eval();
        Assert.Equal(x.Slice(2, 1, 4).Slice(3, 1, 4).Contiguous().ToArray(), crop.Forward(x).ToArray());
    }

    [Fact]
    public void A_seeded_layer_repeats_and_changes_every_call()
    {
        Tensor x = Tensor.Rand([4, 1, 6, 6], new Generator(1));
        Tensor a = new RandomRotation(0.2f, seed: 9).Forward(x), b = new RandomRotation(0.2f, seed: 9).Forward(x);
        Assert.Equal(a.ToArray(), b.ToArray());
        var layer = new RandomRotation(0.2f, seed: 9);
        Assert.NotEqual(layer.Forward(x).ToArray(), layer.Forward(x).ToArray());
    }

    [Fact]
    public void Flips_are_exact_mirror_images()
    {
        Tensor x = Ramp(64, 1, 3, 4);
        float[] y = new RandomFlip("horizontal", seed: 3).Forward(x).ToArray(), v = x.ToArray();
        int flipped = 0;
        for (int s = 0; s < 64; s++)
        {
            bool same = Enumerable.Range(0, 12).All(k => y[s * 12 + k] == v[s * 12 + k]);
            bool mirror = Enumerable.Range(0, 12).All(k => y[s * 12 + k] == v[s * 12 + k / 4 * 4 + 3 - k % 4]);
            Assert.True(same || mirror, $"image {s} is neither itself nor its mirror");
            if (mirror) flipped++;
        }
        Assert.InRange(flipped, 16, 48);
    }

    [Fact]
    public void A_whole_pixel_translation_with_a_constant_fill_shifts_the_image()
    {
        Tensor x = Ramp(1, 1, 4, 4) + 1f;
        // Shift down by one row and left by two columns: output (i, j) reads (i - 1, j + 2).
        Tensor y = ImageWarp.Affine(x, [1, 0, 0, 1, -1, 2], "constant", -5f, "bilinear");
        float[] v = x.ToArray(), r = y.ToArray();
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                int si = i - 1, sj = j + 2;
                float expected = si >= 0 && sj < 4 ? v[si * 4 + sj] : -5f;
                Assert.Equal(expected, r[i * 4 + j]);
            }
        }
    }

    [Theory]
    [InlineData("reflect", new[] { 1f, 0f, 0f, 1f })]
    [InlineData("wrap", new[] { 2f, 3f, 0f, 1f })]
    [InlineData("nearest", new[] { 0f, 0f, 0f, 1f })]
    [InlineData("constant", new[] { 9f, 9f, 0f, 1f })]
    public void Fill_modes_read_the_named_pixels(string mode, float[] expected)
    {
        // One row of 4 pixels (values 0..3) shifted right by two: output column j reads column j - 2.
        var x = Tensor.FromArray([0f, 1f, 2f, 3f], 1, 1, 1, 4);
        Assert.Equal(expected, ImageWarp.Affine(x, [1, 0, 0, 1, 0, -2], mode, 9f, "nearest").ToArray());
    }

    [Fact]
    public void The_warp_has_a_gradient()
    {
        Tensor x = Tensor.RandN([2, 2, 4, 5], new Generator(2));
        float[] maps = [0.9f, 0.2f, -0.15f, 1.1f, 0.3f, -0.4f, 1.2f, 0f, 0f, 0.8f, -0.6f, 0.7f];
        foreach (string mode in new[] { "reflect", "constant" })
        {
            var result = GradCheck.Check(_ => ImageWarp.Affine(x, maps, mode, 0.5f, "bilinear"), [x]);
            Assert.True(result.Passed, $"{mode}: {result.Worst}");
        }
    }

    [Fact]
    public void Contrast_keeps_each_channel_mean()
    {
        Tensor x = Tensor.Rand([3, 2, 4, 4], new Generator(5));
        Tensor y = new RandomContrast(0.5f, seed: 1).Forward(x);
        float[] mx = x.Mean([2, 3]).ToArray(), my = y.Mean([2, 3]).ToArray();
        for (int i = 0; i < mx.Length; i++) Assert.Equal(mx[i], my[i], 4);
        Assert.NotEqual(x.ToArray(), y.ToArray());
    }

    [Fact]
    public void Normalization_adapts_to_zero_mean_unit_variance()
    {
        Tensor x = Tensor.RandN([64, 3, 2, 2], new Generator(8)) * 3f + 2f;
        var norm = new Normalization(axis: 1);
        norm.Adapt(x);
        Tensor y = norm.Forward(x);
        foreach (float m in y.Mean([0, 2, 3]).ToArray()) Assert.Equal(0f, m, 3);
        foreach (float v in y.Var([0, 2, 3], correction: 0).ToArray()) Assert.Equal(1f, v, 3);
    }
}
