namespace Nabla.Tests.Ops;

/// <summary>
/// One entry per differentiable op (as PyTorch's OpInfo): a function of its inputs and how to
/// make those inputs. The gradient, non-contiguous and reuse tests all run over this table,
/// so a new op needs only a line here to be checked every way.
/// </summary>
public static class OpCatalog
{
    /// <summary>An op under test: its name, the function, and the input shapes with a value domain.</summary>
    public sealed record Entry(string Name, Func<Tensor[], Tensor> Function, InputSpec[] Inputs)
    {
        public override string ToString() => Name;

        /// <summary>Fresh leaf inputs from a seed.</summary>
        public Tensor[] MakeInputs(ulong seed = 7)
        {
            var g = new Generator(seed);
            return Inputs.Select(spec => spec.Make(g)).ToArray();
        }
    }

    /// <summary>How to draw one input: shape and a transform from uniform [-1, 1) values.</summary>
    public sealed record InputSpec(int[] Shape, Func<float, int, float> Domain)
    {
        public Tensor Make(Generator g)
        {
            int n = Shape.Aggregate(1, (a, b) => a * b);
            var data = new float[n];
            for (int i = 0; i < n; i++) data[i] = Domain((float)(g.NextDouble() * 2 - 1), i);
            return Tensor.FromArray(data, Shape);
        }
    }

    // Value domains. Kinked or singular ops get inputs kept away from the kink.
    private static float Any(float u, int i) => 2f * u;
    private static float AwayFromZero(float u, int i) => u >= 0 ? 0.2f + 1.5f * u : -0.2f + 1.5f * u;
    private static float Positive(float u, int i) => 0.5f + 1.5f * (u + 1f) / 2f;
    // Distinct values in [-2, 2) (no ties; gaps well above the finite-difference step), for max/min and pooling.
    private static float Distinct(float u, int i) => -2f + 4f * (float)(i * 0.6180339887 % 1.0) + 0.001f * u;
    private static float Label4(float u, int i) => (float)(Math.Abs(i * 7 + (int)(u * 10)) % 4);
    private static float Label3(float u, int i) => (float)(Math.Abs(i * 5 + (int)(u * 10)) % 3);

    private static InputSpec In(params int[] shape) => new(shape, Any);
    private static InputSpec In(Func<float, int, float> domain, params int[] shape) => new(shape, domain);

    private static Entry Op(string name, Func<Tensor[], Tensor> f, params InputSpec[] inputs) => new(name, f, inputs);

    /// <summary>Ops whose inputs are all differentiable.</summary>
    public static readonly Entry[] All =
    [
        // Arithmetic, same shape and broadcast.
        Op("add", x => x[0] + x[1], In(3, 4), In(3, 4)),
        Op("add.broadcast-row", x => x[0] + x[1], In(3, 4), In(4)),
        Op("add.broadcast-both", x => x[0] + x[1], In(2, 1, 3), In(4, 1)),
        Op("add.scalar-tensor", x => x[0] + x[1], In(3, 2), In()),
        Op("add.float", x => x[0] + 2.5f, In(3, 2)),
        Op("sub", x => x[0] - x[1], In(3, 4), In(3, 4)),
        Op("sub.broadcast", x => x[0] - x[1], In(4, 1), In(1, 5)),
        Op("sub.rfloat", x => 1f - x[0], In(5)),
        Op("mul", x => x[0] * x[1], In(3, 4), In(3, 4)),
        Op("mul.broadcast", x => x[0] * x[1], In(2, 3, 4), In(3, 1)),
        Op("div", x => x[0] / x[1], In(3, 4), In(AwayFromZero, 3, 4)),
        Op("div.broadcast", x => x[0] / x[1], In(2, 3), In(AwayFromZero, 3)),
        Op("div.rfloat", x => 2f / x[0], In(AwayFromZero, 4)),
        Op("neg", x => -x[0], In(3, 4)),
        Op("pow.scalar3", x => x[0].Pow(3f), In(3, 4)),
        Op("pow.scalar-half", x => x[0].Pow(0.5f), In(Positive, 3, 4)),
        Op("pow.scalar-neg", x => x[0].Pow(-1.5f), In(Positive, 6)),
        Op("pow.tensor", x => Tensor.Pow(x[0], x[1]), In(Positive, 3, 4), In(3, 4)),
        Op("pow.tensor-broadcast", x => Tensor.Pow(x[0], x[1]), In(Positive, 2, 3), In(3)),
        Op("exp", x => x[0].Exp(), In(3, 4)),
        Op("log", x => x[0].Log(), In(Positive, 3, 4)),
        Op("sqrt", x => x[0].Sqrt(), In(Positive, 3, 4)),
        Op("abs", x => x[0].Abs(), In(AwayFromZero, 3, 4)),
        Op("clamp", x => x[0].Clamp(-0.5f, 0.5f), In((u, i) => i % 2 == 0 ? 0.4f * u : 1.2f * Math.Sign(u) + 0.1f * u, 3, 4)),
        Op("clamp.min-only", x => x[0].Clamp(min: 0.1f), In(AwayFromZero, 8)),

        // Matrix products.
        Op("matmul", x => x[0].MatMul(x[1]), In(3, 4), In(4, 5)),
        Op("matmul.batched", x => x[0].MatMul(x[1]), In(2, 3, 4), In(2, 4, 5)),
        Op("matmul.broadcast-batch", x => x[0].MatMul(x[1]), In(2, 3, 4), In(4, 2)),
        Op("matmul.broadcast-batch-left", x => x[0].MatMul(x[1]), In(3, 4), In(2, 1, 4, 2)),
        Op("matmul.vector-matrix", x => x[0].MatMul(x[1]), In(3), In(3, 4)),
        Op("matmul.matrix-vector", x => x[0].MatMul(x[1]), In(4, 3), In(3)),
        Op("matmul.dot", x => x[0].MatMul(x[1]), In(5), In(5)),

        // Reductions.
        Op("sum.all", x => x[0].Sum(), In(3, 4)),
        Op("sum.axis", x => x[0].Sum(1), In(3, 4)),
        Op("sum.axes-keepdim", x => x[0].Sum([0, 2], keepDim: true), In(2, 3, 4)),
        Op("sum.negative-axis", x => x[0].Sum(-1), In(2, 3, 4)),
        Op("mean.all", x => x[0].Mean(), In(3, 4)),
        Op("mean.axis", x => x[0].Mean(0, keepDim: true), In(3, 4)),
        Op("max.all", x => x[0].Max(), In(Distinct, 3, 4)),
        Op("max.axis", x => x[0].Max(1), In(Distinct, 3, 4)),
        Op("max.axes-keepdim", x => x[0].Max([0, 2], keepDim: true), In(Distinct, 2, 3, 4)),
        Op("min.axis", x => x[0].Min(0), In(Distinct, 3, 4)),
        Op("var.all", x => x[0].Var(), In(3, 4)),
        Op("var.axis-population", x => x[0].Var(1, keepDim: true, correction: 0), In(3, 4)),

        // Activations.
        Op("relu", x => x[0].Relu(), In(AwayFromZero, 3, 4)),
        Op("leaky_relu", x => x[0].LeakyRelu(0.1f), In(AwayFromZero, 3, 4)),
        Op("elu", x => x[0].Elu(0.7f), In(AwayFromZero, 3, 4)),
        Op("gelu", x => x[0].Gelu(), In(3, 4)),
        Op("gelu.tanh", x => x[0].Gelu(approximate: true), In(3, 4)),
        Op("erf", x => x[0].Erf(), In(3, 4)),
        Op("sin", x => x[0].Sin(), In(3, 4)),
        Op("cos", x => x[0].Cos(), In(3, 4)),
        Op("silu", x => x[0].Silu(), In(3, 4)),
        Op("sigmoid", x => x[0].Sigmoid(), In(3, 4)),
        Op("tanh", x => x[0].Tanh(), In(3, 4)),
        Op("softplus", x => x[0].Softplus(), In(3, 4)),
        Op("softplus.beta2", x => x[0].Softplus(beta: 2f), In(3, 4)),
        Op("softmax", x => x[0].Softmax(), In(3, 4)),
        Op("softmax.axis0", x => x[0].Softmax(0), In(3, 2, 4)),
        Op("log_softmax", x => x[0].LogSoftmax(), In(3, 4)),
        Op("softmax_cross_entropy", x => Tensor.SoftmaxCrossEntropy(x[0] * 3f, Tensor.FromArray([2f, 0f, 3f, 3f, 1f])), In(5, 4)),
        Op("log_softmax.middle-axis", x => x[0].LogSoftmax(1), In(2, 3, 4)),

        // Shape ops.
        Op("reshape", x => x[0].Reshape(4, -1), In(2, 3, 4)),
        Op("flatten", x => x[0].Flatten(1), In(2, 3, 4)),
        Op("transpose", x => x[0].Transpose(0, 2), In(2, 3, 4)),
        Op("permute", x => x[0].Permute(1, 2, 0), In(2, 3, 4)),
        Op("T", x => x[0].T, In(3, 5)),
        Op("squeeze", x => x[0].Squeeze(1), In(3, 1, 4)),
        Op("unsqueeze", x => x[0].Unsqueeze(-1), In(3, 4)),
        Op("expand", x => x[0].Expand(2, 3, 4), In(3, 1)),
        Op("contiguous", x => x[0].Transpose(0, 1).Contiguous(), In(3, 4)),
        Op("slice", x => x[0].Slice(1, 1, 4), In(3, 5)),
        Op("slice.step", x => x[0].Slice(0, 1, null, 2), In(6, 3)),
        Op("slice.negative", x => x[0].Slice(-1, -3, -1), In(2, 6)),
        Op("select", x => x[0].Select(1, 2), In(3, 4, 2)),
        Op("concat", x => Tensor.Concat([x[0], x[1], x[2]], 1), In(2, 3), In(2, 1), In(2, 4)),
        Op("stack", x => Tensor.Stack([x[0], x[1]], 1), In(3, 2), In(3, 2)),

        // Recurrent cells.
        Op("lstm_cell", x => Tensor.LstmCell(x[0], x[1]), In(3, 8), In(3, 2)),
        Op("lstm_sequence", x => Tensor.LstmSequence(x[0], x[1], x[2], x[3], x[4], x[5]), In(2, 4, 12), In(12), In(12, 3), In(12), In(2, 3), In(2, 3)),
        Op("gru_sequence", x => Tensor.GruSequence(x[0], x[1], x[2], x[3], x[4]), In(2, 4, 9), In(9), In(9, 3), In(9), In(2, 3)),
        Op("gru_sequence.masked", x => Tensor.GruSequence(x[0], x[1], x[2], x[3], x[4], Tensor.FromArray([1f, 1f, 0f, 0f, 0f, 1f, 0f, 1f], 2, 4)), In(2, 4, 9), In(9), In(9, 3), In(9), In(2, 3)),
        Op("lstm_sequence.masked", x => Tensor.LstmSequence(x[0], x[1], x[2], x[3], x[4], x[5], Tensor.FromArray([1f, 1f, 0f, 0f, 0f, 1f, 0f, 1f], 2, 4)), In(2, 4, 12), In(12), In(12, 3), In(12), In(2, 3), In(2, 3)),

        // Convolution and pooling.
        Op("layer_norm", x => Tensor.LayerNorm(x[0], x[1], x[2], 1e-5f), In(2, 3, 5), In(5), In(5)),
        Op("batch_norm", x => Tensor.BatchNorm(x[0], x[1], x[2], 1e-3f).Output, In(4, 3, 2, 2), In(3), In(3)),
        Op("batch_norm.features", x => Tensor.BatchNorm(x[0], x[1], x[2], 1e-5f).Output, In(5, 2), In(2), In(2)),
        Op("conv2d", x => Tensor.Conv2d(x[0], x[1], x[2]), In(2, 3, 5, 5), In(4, 3, 3, 3), In(4)),
        Op("conv2d.stride-pad-dilation", x => Tensor.Conv2d(x[0], x[1], null, (2, 1), new Padding2D(1, 0, 2, 1), (1, 2)), In(2, 2, 6, 7), In(3, 2, 2, 3)),
        Op("conv2d.1x1", x => Tensor.Conv2d(x[0], x[1], x[2]), In(1, 4, 3, 3), In(2, 4, 1, 1), In(2)),
        // One input channel and more filters than 16: the weight gradient is computed transposed.
        Op("linear", x => Tensor.Linear(x[0], x[1], x[2], relu: false), In(4, 5), In(3, 5), In(3)),
        Op("linear.relu", x => Tensor.Linear(x[0], x[1], x[2], relu: true), In(4, 5), In(6, 5), In(6)),
        Op("linear.no-bias", x => Tensor.Linear(x[0], x[1], null, relu: true), In(3, 7), In(2, 7)),
        Op("conv2d.relu", x => Tensor.Conv2dRelu(x[0], x[1], x[2], null, 1, null), In(2, 2, 4, 4), In(3, 2, 3, 3), In(3)),
        Op("conv2d.first-layer", x => Tensor.Conv2d(x[0], x[1], x[2], padding: 1), In(1, 1, 4, 3), In(17, 1, 3, 3), In(17)),
        Op("conv_transpose2d", x => Tensor.ConvTranspose2d(x[0], x[1], x[2], (2, 2), (1, 1), (1, 1)), In(2, 3, 3, 4), In(3, 2, 3, 3), In(2)),
        Op("conv_transpose2d.dilated", x => Tensor.ConvTranspose2d(x[0], x[1], null, (1, 2), (0, 1), null, (2, 1)), In(1, 2, 3, 3), In(2, 3, 2, 3)),
        Op("maxpool2d", x => Tensor.MaxPool2d(x[0], (2, 2)), In(Distinct, 2, 2, 4, 4)),
        Op("maxpool2d.stride-pad", x => Tensor.MaxPool2d(x[0], (3, 3), (2, 2), 1), In(Distinct, 1, 2, 5, 5)),
        Op("avgpool2d", x => Tensor.AvgPool2d(x[0], (2, 2)), In(2, 2, 4, 4)),
        Op("avgpool2d.stride-pad", x => Tensor.AvgPool2d(x[0], (3, 2), (2, 1), new Padding2D(1, 1, 0, 1)), In(1, 2, 5, 4)),

        // Indexing.
        Op("index_select", x => x[0].IndexSelect(0, Tensor.FromArray([2f, 0f, 2f, 1f], 2, 2)), In(3, 4)),
        Op("index_select.axis1", x => x[0].IndexSelect(1, Tensor.FromArray([1f, 1f, 0f])), In(2, 3, 2)),
        Op("gather", x => x[0].Gather(1, new InputSpec([4, 2], Label4).Make(new Generator(3))), In(4, 4)),
        Op("gather.axis0", x => x[0].Gather(0, new InputSpec([2, 3], Label3).Make(new Generator(4))), In(3, 3)),
        Op("where", x => Tensor.Where(x[0].Gt(0f), x[1], x[2]), In(AwayFromZero, 3, 4), In(3, 4), In(3, 4)),
        // Attention's ops.
        Op("masked_fill", x => x[0].MaskedFill(Tensor.FromArray([1f, 0f, 0f, 1f], 1, 4), -3f), In(3, 4)),
        Op("triu", x => x[0].Triu(), In(2, 3, 4)),
        Op("tril.offset", x => x[0].Tril(-1), In(4, 3)),
        Op("logsumexp", x => x[0].LogSumExp(-1), In(3, 5)),
        Op("logsumexp.keepdim-axis0", x => x[0].LogSumExp(0, keepDim: true), In(4, 2)),
        Op("pad", x => x[0].Pad(1, 2, 1, 0.5f), In(2, 3)),
        Op("roll", x => x[0].Roll(-2, 1), In(2, 5)),
        Op("cumsum", x => x[0].CumSum(1), In(2, 4, 3)),
        Op("scatter_add", x => x[0].ScatterAdd(1, new InputSpec([3, 2], Label4).Make(new Generator(5)), x[1]), In(3, 4), In(3, 2)),
        Op("sort.values", x => x[0].Sort(1, descending: true).Values, In(Distinct, 3, 4)),
        Op("topk.values", x => x[0].TopK(2, 0).Values, In(Distinct, 4, 3)),
        Op("norm", x => x[0].Norm([1]), In(AwayFromZero, 3, 4)),
        Op("sdpa", x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2]), In(2, 3, 4), In(2, 5, 4), In(2, 5, 3)),
        Op("sdpa.causal", x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], causal: true), In(2, 3, 4), In(2, 5, 4), In(2, 5, 3)),
        Op("sdpa.causal-square", x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], causal: true, scale: 0.7f), In(2, 2, 4, 4), In(2, 2, 4, 4), In(2, 2, 4, 3)),
        Op("sdpa.causal-masked", x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], Tensor.FromArray([1f, 1f, 1f, 0f, 1f, 1f, 0f, 0f], 2, 1, 4), causal: true),
            In(2, 4, 3), In(2, 4, 3), In(2, 4, 2)),
        Op("einsum.attention", x => Tensor.Einsum("bqd,bkd->bqk", x[0], x[1]), In(2, 3, 4), In(2, 5, 4)),
        Op("einsum.outer-sum", x => Tensor.Einsum("ij,jk->ki", x[0], x[1].Tanh()), In(3, 4), In(4, 2)),
        Op("sdpa.tiled-causal", x => Tensor.TiledAttention(x[0], x[1], x[2], causal: true, 0.5f), In(2, 5, 4), In(2, 7, 4), In(2, 7, 3)),
        Op("where.broadcast", x => Tensor.Where(Tensor.FromArray([1f, 0f, 1f]), x[0], x[1]), In(2, 3), In(2, 1)),
    ];

    public static IEnumerable<object[]> Cases() => All.Select(e => new object[] { e.Name });

    public static Entry Get(string name) => All.Single(e => e.Name == name);
}
