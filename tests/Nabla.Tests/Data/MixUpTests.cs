using Nabla.Data;

namespace Nabla.Tests.Data;

public class MixUpTests
{
    private static TensorDataset Images(int n) =>
        new(Tensor.FromArray([.. Enumerable.Range(0, n * 16).Select(i => (float)(i / 16))], n, 1, 4, 4), Tensor.FromArray([.. Enumerable.Range(0, n).Select(i => (float)(i % 3))]));

    [Fact]
    public void MixUp_blends_images_and_labels_by_the_same_weight()
    {
        var data = new MixUp(Images(8), classes: 3, alpha: 0.4f, seed: 1);
        DataBatch batch = data.Batch([0, 1, 2, 3, 4, 5, 6, 7]);
        float[] x = batch.Inputs[0].ToArray(), t = batch.Targets[0].ToArray();
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(1f, t.Skip(3 * i).Take(3).Sum(), 5);
            // Image i holds the value i everywhere; mixed with partner p it is lambda i + (1 - lambda) p, constant.
            Assert.All(x.Skip(16 * i).Take(16), v => Assert.Equal(x[16 * i], v, 5));
        }
        Assert.Equal(t, new MixUp(Images(8), 3, 0.4f, seed: 1).Batch([0, 1, 2, 3, 4, 5, 6, 7]).Targets[0].ToArray());
    }

    [Fact]
    public void CutMix_pastes_a_box_whose_area_is_the_partners_label_weight()
    {
        var data = new MixUp(Images(16), classes: 3, alpha: 1f, cutMix: true, seed: 3);
        DataBatch batch = data.Batch([.. Enumerable.Range(0, 16)]);
        float[] x = batch.Inputs[0].ToArray(), t = batch.Targets[0].ToArray();
        for (int i = 0; i < 16; i++)
        {
            int own = x.Skip(16 * i).Take(16).Count(v => v == i);
            int label = i % 3;
            // The share of pixels that stayed is the weight of the image's own label (unless the partner shares it).
            float kept = t[3 * i + label];
            Assert.True(own / 16f <= kept + 1e-5f, $"image {i}: {own} of 16 pixels kept, own label weight {kept}");
        }
    }

    [Fact]
    public void Labels_outside_the_classes_are_refused()
    {
        var data = new MixUp(Images(4), classes: 2, seed: 1);
        Assert.Throws<ArgumentException>(() => data.Batch([0, 1, 2, 3]));
    }
}
