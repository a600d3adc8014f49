namespace Nabla.Kernels.Tests;

public class RecurrentCellTests
{
    [Fact]
    public void Gru_backward_matches_its_scalar_formulas_for_every_width()
    {
        var rand = new Random(3);
        float Next() => (float)(rand.NextDouble() * 2 - 1);
        for (int h = 1; h <= 40; h++)
        {
            // Saved gates r, z in (0, 1), n in (-1, 1), and the hidden product's n part.
            float[] saved = [.. Enumerable.Range(0, 4 * h).Select(i => i < 2 * h ? 0.5f + 0.5f * Next() : Next())];
            float[] hPrev = [.. Enumerable.Range(0, h).Select(_ => Next())], dh = [.. Enumerable.Range(0, h).Select(_ => Next())];
            float[] dXp = new float[3 * h], dHp = new float[3 * h], dhPrev = new float[h];
            RecurrentCells.GruBackward(saved, hPrev, dh, h, dXp, dHp, dhPrev);
            for (int j = 0; j < h; j++)
            {
                float r = saved[j], z = saved[h + j], n = saved[2 * h + j], hpn = saved[3 * h + j], g = dh[j];
                float dnPre = g * (1f - z) * (1f - n * n);
                float dzPre = g * (hPrev[j] - n) * z * (1f - z);
                float drPre = dnPre * hpn * r * (1f - r);
                Assert.Equal([drPre, dzPre, dnPre], new[] { dXp[j], dXp[h + j], dXp[2 * h + j] });
                Assert.Equal([drPre, dzPre, dnPre * r], new[] { dHp[j], dHp[h + j], dHp[2 * h + j] });
                Assert.Equal(g * z, dhPrev[j]);
            }
        }
    }
}
