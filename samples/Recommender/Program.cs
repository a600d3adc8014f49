// A recommender from explicit ratings: dotnet run --project samples/Recommender [-- ratings.csv]
// Default: MovieLens ml-latest-small beside the project (userId,movieId,rating,... with a header).
// Matrix factorisation with biases: rating = mean + b_user + b_item + p_user . q_item, written as a
// small Layer of four Embeddings, trained with AdamW on a random 80% and tested on the rest.
using System.Globalization;
using Nabla;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

string file = args.Length > 0 ? args[0] : "../shared/datasets/movielens-latest-small/ratings.csv";
var table = CsvTable.Read(file);
int uc = table.ColumnIndex("userId"), ic = table.ColumnIndex("movieId"), rc = table.ColumnIndex("rating");
var users = new Dictionary<string, int>();
var items = new Dictionary<string, int>();
int Id(Dictionary<string, int> ids, string key) => ids.TryGetValue(key, out int v) ? v : ids[key] = ids.Count;
float[] pairs = table.Rows.SelectMany(r => new float[] { Id(users, r[uc]), Id(items, r[ic]) }).ToArray();
float[] ratings = table.Rows.Select(r => float.Parse(r[rc], CultureInfo.InvariantCulture)).ToArray();

var (train, test) = TrainTestSplit.Random(ratings.Length, testFraction: 0.2, seed: 0);
Tensor X(int[] rows) => Tensor.FromArray(rows.SelectMany(r => new[] { pairs[2 * r], pairs[2 * r + 1] }).ToArray(), rows.Length, 2);
Tensor Y(int[] rows) => Tensor.FromArray(rows.Select(r => ratings[r]).ToArray(), rows.Length, 1);
float mean = train.Average(r => ratings[r]);

Generator.ManualSeed(42);
var model = new Sequential(new Factorisation(users.Count, items.Count, 32, mean));
model.Compile(new MeanSquaredError(), new AdamW(2e-3f, weightDecay: 0.5f));
model.Fit(X(train), Y(train), epochs: 20, batchSize: 256, verbose: 0);
double rmse = Math.Sqrt(model.Evaluate(X(test), Y(test), batchSize: 4096)["loss"]);
double meanRmse = Math.Sqrt(test.Average(r => (ratings[r] - mean) * (ratings[r] - mean)));
Console.WriteLine($"{ratings.Length} ratings, {users.Count} users, {items.Count} items; test RMSE {rmse:F3} (predicting the mean: {meanRmse:F3})");

/// <summary>(user, item) index pairs [N, 2] to predicted ratings [N, 1].</summary>
sealed class Factorisation : Layer
{
    private readonly Embedding _users, _items, _userBias, _itemBias;
    private readonly float _mean;

    public Factorisation(int users, int items, int dim, float mean) : base(null)
    {
        _users = AddModule("users", new Embedding(users, dim, initializer: new Nabla.Initializers.RandomNormal(0, 0.05f)));
        _items = AddModule("items", new Embedding(items, dim, initializer: new Nabla.Initializers.RandomNormal(0, 0.05f)));
        _userBias = AddModule("user_bias", new Embedding(users, 1, initializer: new Nabla.Initializers.Zeros()));
        _itemBias = AddModule("item_bias", new Embedding(items, 1, initializer: new Nabla.Initializers.Zeros()));
        _mean = mean;
    }

    public override string TypeName => "Factorisation";

    protected override Tensor Call(Tensor input)
    {
        Tensor u = input.Select(1, 0), i = input.Select(1, 1);
        return (_users.Forward(u) * _items.Forward(i)).Sum(1, keepDim: true) + _userBias.Forward(u) + _itemBias.Forward(i) + _mean;
    }
}
