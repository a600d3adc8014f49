using System.Globalization;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// Rating prediction on MovieLens ml-latest-small (a user's own copy: research use only, so
/// it is read from ../shared/datasets or --data, never shipped): biased matrix factorisation,
/// rating = global mean + user bias + item bias + user vector . item vector, as a two-input
/// functional model (user id, item id) with the shared vectors and biases as embeddings, trained on a seeded
/// random 80% of the ratings and tested on the rest, beside the global-mean and the regularised
/// user+item-bias baselines computed on the same split.
/// </summary>
public sealed class RecommenderExample : Example
{
    /// <inheritdoc/>
    public override string Name => "recommender";

    /// <inheritdoc/>
    public override string Description => "MovieLens ratings with biased matrix factorisation, against mean and bias baselines";

    /// <summary>
    /// A two-input functional model: user ids [N, 1] and item ids [N, 1] to a rating [N, 1] less
    /// the training mean (the targets are centred): user bias + item bias + an interaction of the
    /// user's and the item's vectors, which <paramref name="interaction"/> makes from the two [N, dim]
    /// vectors (a dot product for matrix factorisation, a small network for NCF).
    /// </summary>
    private static Model TwoTower(string name, int users, int items, int dim, Func<SymbolicTensor, SymbolicTensor, SymbolicTensor> interaction)
    {
        var user = new Input("user", 1);
        var item = new Input("item", 1);
        SymbolicTensor Embed(Input ids, int count, int size, string what, Nabla.Initializers.Initializer init) =>
            new Flatten(name: what + "_flat").Apply(new Embedding(count, size, initializer: init, name: what).Apply(ids));
        var vectors = new Nabla.Initializers.RandomNormal(0, 0.05f);
        var userVector = Embed(user, users, dim, "user_vectors", vectors);
        var itemVector = Embed(item, items, dim, "item_vectors", vectors);
        var userBias = Embed(user, users, 1, "user_bias", new Nabla.Initializers.Zeros());
        var itemBias = Embed(item, items, 1, "item_bias", new Nabla.Initializers.Zeros());
        var rating = new Add(name: "rating").Apply(interaction(userVector, itemVector), userBias, itemBias);
        return new Model([user, item], [rating], name);
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        string file = options.DataPath ?? FindShared("movielens-latest-small/ratings.csv");
        var table = CsvTable.Read(file);
        int uc = table.ColumnIndex("userId"), ic = table.ColumnIndex("movieId"), rc = table.ColumnIndex("rating");
        var userIndex = new Dictionary<string, int>();
        var itemIndex = new Dictionary<string, int>();
        int n = table.Rows.Count;
        var ids = new float[n * 2];
        var ratings = new float[n];
        for (int r = 0; r < n; r++)
        {
            string[] row = table.Rows[r];
            ids[2 * r] = userIndex.TryGetValue(row[uc], out int u) ? u : userIndex[row[uc]] = userIndex.Count;
            ids[2 * r + 1] = itemIndex.TryGetValue(row[ic], out int i) ? i : itemIndex[row[ic]] = itemIndex.Count;
            ratings[r] = float.Parse(row[rc], CultureInfo.InvariantCulture);
        }
        var order = Enumerable.Range(0, n).ToArray();
        new Generator(options.Seed).Shuffle(order);
        int nTrain = n * 8 / 10;
        int[] train = order[..nTrain], test = order[nTrain..];
        float mean = train.Average(r => ratings[r]);

        // Baselines on the same split: the global mean, and regularised user and item biases.
        double Rmse(Func<int, double> predict) => Math.Sqrt(test.Average(r => Math.Pow(predict(r) - ratings[r], 2)));
        double BiasRmse(double lambda)
        {
            var (bu, bi) = Biases(train, ids, ratings, mean, userIndex.Count, itemIndex.Count, lambda);
            return Rmse(r => mean + bu[(int)ids[2 * r]] + bi[(int)ids[2 * r + 1]]);
        }
        double meanRmse = Rmse(_ => mean);

        // Two inputs, user ids and item ids, each [N, 1]; the targets are the ratings less the training mean.
        Tensor[] Ids(int[] rows) =>
        [
            Tensor.FromArray(rows.Select(r => ids[2 * r]).ToArray(), rows.Length, 1),
            Tensor.FromArray(rows.Select(r => ids[2 * r + 1]).ToArray(), rows.Length, 1),
        ];
        Tensor[] Ratings(int[] rows) => [Tensor.FromArray(rows.Select(r => ratings[r] - mean).ToArray(), rows.Length, 1)];
        Generator.ManualSeed(options.Seed);
        var model = TwoTower("recommender", userIndex.Count, itemIndex.Count, 32, (p, q) => new Dot(name: "interaction").Apply(p, q));
        model.Compile(new MeanSquaredError(), new AdamW(2e-3f, weightDecay: 0.5f));
        log.WriteLine($"dataset: {file}, {n} ratings, {userIndex.Count} users, {itemIndex.Count} movies; random 80/20 split, seed {options.Seed}");
        if (options.Verbose > 0) model.Summary(log);
        model.Fit(Ids(train), Ratings(train), epochs: options.Epochs ?? 20, batchSize: 256, verbose: options.Verbose, output: log, distributed: options.Distributed);
        double mfRmse = Math.Sqrt(model.Evaluate(Ids(test), Ratings(test), batchSize: 4096)["loss"]);

        // Neural collaborative filtering (He et al., 2017, the MLP branch): the two vectors
        // concatenated and passed through a small ReLU network instead of a dot product.
        Generator.ManualSeed(options.Seed);
        var ncf = TwoTower("ncf", userIndex.Count, itemIndex.Count, 32, (p, q) =>
            new Dense(1).Apply(new Dense(32, "relu").Apply(new Dense(64, "relu").Apply(new Concatenate().Apply(p, q)))));
        ncf.Compile(new MeanSquaredError(), new AdamW(1e-3f, weightDecay: 0.5f));
        ncf.Fit(Ids(train), Ratings(train), epochs: options.Epochs ?? 20, batchSize: 256, validationSplit: 0.1f, verbose: options.Verbose, output: log, distributed: options.Distributed,
            callbacks: [new Nabla.Callbacks.EarlyStopping(patience: 2, restoreBestWeights: true)]);
        double ncfRmse = Math.Sqrt(ncf.Evaluate(Ids(test), Ratings(test), batchSize: 4096)["loss"]);
        log.WriteLine($"test RMSE: matrix factorisation {mfRmse:F4}, neural collaborative filtering (concatenated vectors, ReLU 64-32, early stopping on 10% of training) {ncfRmse:F4}");

        ShowTopK(model, mean, file, userIndex, itemIndex, ids, train, log);
        var result = new ExampleResult(Name);
        result.Metrics.Add("test_rmse", mfRmse);
        result.Metrics.Add("ncf_test_rmse", ncfRmse);
        result.Metrics.Add("global_mean_rmse", meanRmse);
        result.Metrics.Add("bias_rmse", BiasRmse(10));
        result.Metrics.Add("bias_rmse_lambda2", BiasRmse(2));
        return result;
    }

    /// <summary>Prints the five unrated movies the model scores highest for the first user, with titles from movies.csv beside the ratings.</summary>
    private static void ShowTopK(Model model, float mean, string ratingsFile, Dictionary<string, int> users, Dictionary<string, int> items, float[] ids, int[] train, TextWriter log)
    {
        string moviesFile = Path.Combine(Path.GetDirectoryName(ratingsFile)!, "movies.csv");
        if (!File.Exists(moviesFile)) return;
        var movies = CsvTable.Read(moviesFile);
        int idc = movies.ColumnIndex("movieId"), tc = movies.ColumnIndex("title");
        var titles = movies.Rows.ToDictionary(r => r[idc], r => r[tc]);
        var itemIds = items.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray();
        const int user = 0;
        var rated = train.Where(r => (int)ids[2 * r] == user).Select(r => (int)ids[2 * r + 1]).ToHashSet();
        var candidates = Enumerable.Range(0, items.Count).Where(i => !rated.Contains(i)).ToArray();
        Tensor users_ = Tensor.Zeros(candidates.Length, 1) + user;
        Tensor movies_ = Tensor.FromArray(candidates.Select(i => (float)i).ToArray(), candidates.Length, 1);
        float[] scores = (model.Predict([users_, movies_], batchSize: 4096)[0] + mean).ToArray();
        string userId = users.First(kv => kv.Value == user).Key;
        log.WriteLine($"top 5 for user {userId} (movies they have not rated in training):");
        foreach (int k in Enumerable.Range(0, candidates.Length).OrderByDescending(k => scores[k]).Take(5))
            log.WriteLine($"  {scores[k]:F2}  {titles.GetValueOrDefault(itemIds[candidates[k]], itemIds[candidates[k]])}");
    }

    /// <summary>User and item biases by alternating regularised averages (a few sweeps).</summary>
    private static (double[] User, double[] Item) Biases(int[] rows, float[] ids, float[] ratings, float mean, int users, int items, double lambda)
    {
        var bu = new double[users];
        var bi = new double[items];
        for (int sweep = 0; sweep < 10; sweep++)
        {
            var sum = new double[items];
            var count = new int[items];
            foreach (int r in rows) { int i = (int)ids[2 * r + 1]; sum[i] += ratings[r] - mean - bu[(int)ids[2 * r]]; count[i]++; }
            for (int i = 0; i < items; i++) bi[i] = sum[i] / (count[i] + lambda);
            sum = new double[users];
            count = new int[users];
            foreach (int r in rows) { int u = (int)ids[2 * r]; sum[u] += ratings[r] - mean - bi[(int)ids[2 * r + 1]]; count[u]++; }
            for (int u = 0; u < users; u++) bu[u] = sum[u] / (count[u] + lambda);
        }
        return (bu, bi);
    }
}
