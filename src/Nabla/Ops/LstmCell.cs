using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// One fused LSTM step (PyTorch's gate order i, f, g, o): from the gate pre-activations
    /// <paramref name="gates"/> [N, 4H] (input and hidden projections with biases, summed) and the
    /// previous cell <paramref name="cell"/> [N, H], returns [N, 2H] holding h' = o tanh(c') in the
    /// first H columns and c' = f c + i g in the last H.
    /// </summary>
    public static Tensor LstmCell(Tensor gates, Tensor cell)
    {
        ArgumentNullException.ThrowIfNull(gates);
        ArgumentNullException.ThrowIfNull(cell);
        if (cell.Rank != 2 || gates.Rank != 2 || gates.ShapeArray[0] != cell.ShapeArray[0] || gates.ShapeArray[1] != 4 * cell.ShapeArray[1])
            throw new ArgumentException($"LstmCell: gates must be [N, 4H] and cell [N, H], got {gates.ShapeString} and {cell.ShapeString}.");
        int n = cell.ShapeArray[0], h = cell.ShapeArray[1];
        var y = new Tensor([n, 2 * h]);
        float[] saved = BufferPool.RentFloats(n * 5 * h);
        RecurrentCells.LstmForward(gates.Data, cell.Data, n, h, y.Storage, saved);
        if (ShouldRecord(gates, cell)) return y.Record(new LstmCellBackward(gates, cell, saved));
        BufferPool.Return(saved);
        return y;
    }

    private sealed class LstmCellBackward : Node
    {
        private readonly float[] _saved;

        public LstmCellBackward(Tensor gates, Tensor cell, float[] saved) : base([gates, cell]) => _saved = Keep(saved);

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor cell = Input(1);
            int n = cell.ShapeArray[0], h = cell.ShapeArray[1];
            var dGates = new Tensor([n, 4 * h]);
            var dc = new Tensor([n, h]);
            RecurrentCells.LstmBackward(_saved, cell.Data, grad.Data, n, h, dGates.Storage, dc.Storage);
            return [NeedsGrad(0) ? dGates : null, NeedsGrad(1) ? dc : null];
        }
    }
}
