using Nabla.Data;
using Nabla.Layers;

namespace Nabla;

/// <summary>
/// A decoder-only Transformer language model (GPT's shape): token and position embeddings,
/// pre-norm causal blocks, a final LayerNorm and a linear head over the
/// vocabulary. Trained with <c>Fit(ids, nextIds)</c> ([N, T] each, the targets the inputs shifted
/// by one) under <c>"sparse_categorical_crossentropy"</c> from logits; <see cref="Generate"/> writes
/// text greedily or by sampling (temperature, top-k, top-p), with a cache of past keys and values
/// so that each new token costs one step.
/// </summary>
public sealed class CausalLanguageModel : Model
{
    private readonly TransformerEncoderLayer[] _blocks;

    /// <summary>Creates the model.</summary>
    /// <param name="vocabulary">Token ids in [0, vocabulary).</param>
    /// <param name="maxLength">The longest context (positions).</param>
    /// <param name="dim">Features per position (d_model).</param>
    /// <param name="heads">Attention heads per block.</param>
    /// <param name="layers">Number of blocks.</param>
    /// <param name="feedForward">Width of each block's feed-forward network (4 dim by default).</param>
    /// <param name="dropout">Dropout in the blocks during training.</param>
    /// <param name="name">Display name.</param>
    public CausalLanguageModel(int vocabulary, int maxLength, int dim, int heads, int layers, int? feedForward = null, float dropout = 0.1f, string name = "causal_lm")
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        Vocabulary = vocabulary;
        MaxLength = maxLength;
        Embedding = AddModule("embedding", new TokenAndPositionEmbedding(vocabulary, maxLength, dim));
        _blocks = new TransformerEncoderLayer[layers];
        for (int i = 0; i < layers; i++)
            _blocks[i] = AddModule($"block{i}", new TransformerEncoderLayer(dim, heads, feedForward ?? 4 * dim, dropout, "gelu", normFirst: true, causal: true));
        Norm = AddModule("norm", new LayerNormalization(1e-5f));
        Head = AddModule("head", new Dense(vocabulary, inputFeatures: dim));
        Norm.EnsureBuilt([dim]);
    }

    /// <summary>Token ids are in [0, Vocabulary).</summary>
    public int Vocabulary { get; }

    /// <summary>The longest context.</summary>
    public int MaxLength { get; }

    /// <summary>The token and position embeddings.</summary>
    public TokenAndPositionEmbedding Embedding { get; }

    /// <summary>The final normalisation.</summary>
    public LayerNormalization Norm { get; }

    /// <summary>The output layer: logits over the vocabulary.</summary>
    public Dense Head { get; }

    /// <summary>The blocks, in order.</summary>
    public IReadOnlyList<TransformerEncoderLayer> Blocks => _blocks;

    /// <inheritdoc/>
    public override bool IsBuilt => true;

    /// <summary>Logits [N, T, vocabulary] for ids [N, T].</summary>
    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != 1) throw new ArgumentException($"Model '{Name}' takes one input (token ids [N, T]), got {inputs.Count}.");
        Tensor ids = inputs[0];
        if (ids.Rank != 2 || ids.Shape[1] > MaxLength) throw new ArgumentException($"Model '{Name}' takes token ids [N, T <= {MaxLength}], got {ids.ShapeString}.");
        Tensor x = Embedding.Forward(ids);
        foreach (var block in _blocks) x = block.Forward(x);
        return [Head.Forward(Norm.Forward(x))];
    }

    /// <summary>Logits and next-token targets as [N*T, vocabulary] and [N*T], the shapes the cross-entropy takes.</summary>
    private (Tensor[] Predictions, Tensor[] Targets) Flat(DataBatch batch)
    {
        Tensor logits = Forward(batch.Inputs)[0];
        Tensor targets = batch.Targets[0];
        if (!Shapes.Equal(targets.Shape, batch.Inputs[0].Shape))
            throw new ArgumentException($"Model '{Name}': targets {targets.ShapeString} must be the next ids, of the inputs' shape {batch.Inputs[0].ShapeString}.");
        return ([logits.Reshape(-1, Vocabulary)], [targets.Reshape(-1)]);
    }

    /// <summary>One step of next-token prediction over every position.</summary>
    protected override float TrainStep(DataBatch batch)
    {
        var (predictions, targets) = Flat(batch);
        Tensor loss = ComputeLoss(predictions, targets);
        float value = loss.Item();
        CheckFinite(value);
        Optimizer!.ZeroGrad(setToNone: false);
        loss.Backward();
        Optimizer.Step();
        UpdateMetrics(predictions, targets);
        return value;
    }

    /// <summary>The next-token loss over every position.</summary>
    protected override float TestStep(DataBatch batch)
    {
        var (predictions, targets) = Flat(batch);
        float value = ComputeLoss(predictions, targets).Item();
        UpdateMetrics(predictions, targets);
        return value;
    }

    /// <summary>
    /// Continues <paramref name="prompt"/> by up to <paramref name="maxNewTokens"/> tokens (stopping
    /// after <paramref name="stopToken"/>, or when the context is full): greedy when
    /// <paramref name="temperature"/> is 0, else sampled from softmax(logits / temperature), kept to
    /// the <paramref name="topK"/> most likely tokens and to the smallest set whose probability
    /// reaches <paramref name="topP"/>. With <paramref name="useCache"/> (the default) each new token
    /// runs one step through the blocks against their cached keys and values; without, the whole
    /// text so far is run again (the same tokens, slower). Returns the new tokens only.
    /// </summary>
    public int[] Generate(IReadOnlyList<int> prompt, int maxNewTokens, float temperature = 0f, int? topK = null, float? topP = null,
        Generator? generator = null, int? stopToken = null, bool useCache = true)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Count == 0) throw new ArgumentException("Generate needs a prompt of at least one token.", nameof(prompt));
        if (prompt.Any(t => t < 0 || t >= Vocabulary)) throw new ArgumentException($"Generate: a prompt token is outside [0, {Vocabulary}).", nameof(prompt));
        if (!(temperature >= 0f)) throw new ArgumentOutOfRangeException(nameof(temperature), $"Generate: temperature must be >= 0, not {temperature}.");
        if (topK is < 1) throw new ArgumentOutOfRangeException(nameof(topK), "Generate: topK must be at least 1.");
        if (topP is float p && !(p > 0f && p <= 1f)) throw new ArgumentOutOfRangeException(nameof(topP), $"Generate: topP must be in (0, 1], not {p}.");
        var g = generator ?? Generator.Default;
        var tokens = new List<int>(prompt);
        var generated = new List<int>();
        using var inference = InferenceScope();
        using var noGrad = Tensor.NoGrad();
        KeyValueCache[] caches = [.. _blocks.Select(_ => new KeyValueCache())];
        int cached = 0;
        // Every token fed must have a position: the text may grow to MaxLength tokens fed, plus the last one generated.
        while (generated.Count < maxNewTokens && tokens.Count <= MaxLength)
        {
            Tensor logits;
            if (useCache)
            {
                // The steps not yet through the blocks: the whole prompt first, then one token at a time.
                Tensor ids = Tensor.FromArray([.. tokens.Skip(cached).Select(t => (float)t)], 1, tokens.Count - cached);
                Tensor x = Embedding.Embed(ids, cached);
                for (int b = 0; b < _blocks.Length; b++) x = _blocks[b].Step(x, caches[b]);
                cached = tokens.Count;
                logits = Head.Forward(Norm.Forward(x.Slice(1, x.Shape[1] - 1)));
            }
            else
            {
                Tensor all = Forward([Tensor.FromArray([.. tokens.Select(t => (float)t)], 1, tokens.Count)])[0];
                logits = all.Slice(1, tokens.Count - 1);
            }
            int next = Choose(logits.Reshape(Vocabulary).ToArray(), temperature, topK, topP, g);
            tokens.Add(next);
            generated.Add(next);
            if (next == stopToken) break;
        }
        return [.. generated];
    }

    /// <summary>The next token from logits: argmax at temperature 0, else a draw after temperature, top-k and top-p.</summary>
    public static int Choose(float[] logits, float temperature, int? topK, float? topP, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(generator);
        if (temperature == 0f)
        {
            int best = 0;
            for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
            return best;
        }
        int[] order = [.. Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i)];
        int keep = Math.Min(topK ?? order.Length, order.Length);
        double max = logits[order[0]] / temperature;
        var weights = new double[keep];
        double total = 0;
        for (int r = 0; r < keep; r++) total += weights[r] = Math.Exp(logits[order[r]] / temperature - max);
        if (topP is float p)
        {
            // The smallest prefix (most likely first) whose probability reaches p.
            double running = 0;
            int r = 0;
            while (r < keep && running < p * total) running += weights[r++];
            keep = Math.Max(1, r);
            total = running;
        }
        double u = generator.NextDouble() * total, acc = 0;
        for (int r = 0; r < keep; r++)
        {
            acc += weights[r];
            if (u < acc) return order[r];
        }
        return order[keep - 1];
    }
}
