using System.Globalization;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// Rating prediction on MovieLens ml-latest-small (a user's own copy: research use only, so
/// it is read from ../shared/datasets or --data, never shipped): biased matrix factorisation,
/// rating = global mean + user bias + item bias + user vector . item vector, trained on a seeded
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
    /// Input [N, 2] of (user index, item index) to a predicted rating [N, 1]: global mean + user
    /// bias + item bias + an interaction of the user's and the item's vectors.
    /// </summary>
    private abstract class RatingModel : Layer
    {
        protected RatingModel(int users, int items, int dim, float mean) : base(null)
        {
            Users = AddModule("users", new Embedding(users, dim, initializer: new Nabla.Initializers.RandomNormal(0, 0.05f)));
            Items = AddModule("items", new Embedding(items, dim, initializer: new Nabla.Initializers.RandomNormal(0, 0.05f)));
            UserBias = AddModule("user_bias", new Embedding(users, 1, initializer: new Nabla.Initializers.Zeros()));
            ItemBias = AddModule("item_bias", new Embedding(items, 1, initializer: new Nabla.Initializers.Zeros()));
            Mean = mean;
        }

        public Embedding Users { get; }
        public Embedding Items { get; }
        public Embedding UserBias { get; }
        public Embedding ItemBias { get; }
        public float Mean { get; }

        /// <summary>The interaction term [N, 1] of user vectors <paramref name="p"/> and item vectors <paramref name="q"/> [N, dim].</summary>
        protected abstract Tensor Interaction(Tensor p, Tensor q);

        protected override Tensor Call(Tensor input)
        {
            Tensor u = input.Select(1, 0), i = input.Select(1, 1);
            return Interaction(Users.Forward(u), Items.Forward(i)) + UserBias.Forward(u) + ItemBias.Forward(i) + Mean;
        }
    }

    /// <summary>Biased matrix factorisation: the interaction is the dot product.</summary>
    private sealed class Factorisation(int users, int items, int dim, float mean) : RatingModel(users, items, dim, mean)
    {
        public override string TypeName => "Factorisation";

        protected override Tensor Interaction(Tensor p, Tensor q) => (p * q).Sum(1, keepDim: true);
    }

    /// <summary>
    /// Neural collaborative filtering (He et al., 2017, the MLP branch): the user and item vectors
    /// are concatenated and passed through a small ReLU network instead of a dot product.
    /// </summary>
    private sealed class NeuralCollaborativeFiltering : RatingModel
    {
        public NeuralCollaborativeFiltering(int users, int items, int dim, float mean) : base(users, items, dim, mean)
        {
            Hidden = AddModule("hidden", new Dense(64, "relu"));
            Hidden2 = AddModule("hidden2", new Dense(32, "relu"));
            Output = AddModule("output", new Dense(1));
        }

        public Dense Hidden { get; }
        public Dense Hidden2 { get; }
        public Dense Output { get; }

        public override string TypeName => "NeuralCollaborativeFiltering";

        protected override Tensor Interaction(Tensor p, Tensor q) => Output.Forward(Hidden2.Forward(Hidden.Forward(Tensor.Concat([p, q], 1))));
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

        Tensor Ids(int[] rows) => Tensor.FromArray(rows.SelectMany(r => new[] { ids[2 * r], ids[2 * r + 1] }).ToArray(), rows.Length, 2);
        Tensor Ratings(int[] rows) => Tensor.FromArray(rows.Select(r => ratings[r]).ToArray(), rows.Length, 1);
        Generator.ManualSeed(options.Seed);
        var model = new Sequential(new Factorisation(userIndex.Count, itemIndex.Count, 32, mean)) { Name = "recommender" };
        model.Compile(new MeanSquaredError(), new AdamW(2e-3f, weightDecay: 0.5f));
        log.WriteLine($"dataset: {file}, {n} ratings, {userIndex.Count} users, {itemIndex.Count} movies; random 80/20 split, seed {options.Seed}");
        model.Fit(Ids(train), Ratings(train), epochs: options.Epochs ?? 20, batchSize: 256, verbose: options.Verbose, output: log);
        double mfRmse = Math.Sqrt(model.Evaluate(Ids(test), Ratings(test), batchSize: 4096)["loss"]);

        Generator.ManualSeed(options.Seed);
        var ncf = new Sequential(new NeuralCollaborativeFiltering(userIndex.Count, itemIndex.Count, 32, mean)) { Name = "ncf" };
        ncf.Compile(new MeanSquaredError(), new AdamW(1e-3f, weightDecay: 0.5f));
        ncf.Fit(Ids(train), Ratings(train), epochs: options.Epochs ?? 20, batchSize: 256, validationSplit: 0.1f, verbose: options.Verbose, output: log,
            callbacks: [new Nabla.Callbacks.EarlyStopping(patience: 2, restoreBestWeights: true)]);
        double ncfRmse = Math.Sqrt(ncf.Evaluate(Ids(test), Ratings(test), batchSize: 4096)["loss"]);
        log.WriteLine($"test RMSE: matrix factorisation {mfRmse:F4}, neural collaborative filtering (concatenated vectors, ReLU 64-32, early stopping on 10% of training) {ncfRmse:F4}");

        ShowTopK(model, file, userIndex, itemIndex, ids, train, log);
        var result = new ExampleResult(Name);
        result.Metrics.Add("test_rmse", mfRmse);
        result.Metrics.Add("ncf_test_rmse", ncfRmse);
        result.Metrics.Add("global_mean_rmse", meanRmse);
        result.Metrics.Add("bias_rmse", BiasRmse(10));
        result.Metrics.Add("bias_rmse_lambda2", BiasRmse(2));
        return result;
    }

    /// <summary>Prints the five unrated movies the model scores highest for the first user, with titles from movies.csv beside the ratings.</summary>
    private static void ShowTopK(Sequential model, string ratingsFile, Dictionary<string, int> users, Dictionary<string, int> items, float[] ids, int[] train, TextWriter log)
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
        Tensor input = Tensor.FromArray(candidates.SelectMany(i => new[] { (float)user, i }).ToArray(), candidates.Length, 2);
        float[] scores = model.Predict(input, batchSize: 4096).ToArray();
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
