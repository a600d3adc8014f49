// Time-series forecasting with an LSTM: dotnet run --project samples/Forecast [-- FILE.csv COLUMN]
// Default: the monthly Mauna Loa CO2 averages beside the project. The network reads the last 24
// month-to-month changes and predicts the next one; the last 60 months are held out and the
// one-step-ahead error is put beside the naive forecast (next month = this month).
using System.Globalization;
using Nabla;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

string file = args.Length > 0 ? args[0] : "../shared/datasets/co2-mauna-loa/co2_mm_mlo.csv";
string column = args.Length > 1 ? args[1] : "average";
var table = CsvTable.Read(file);
int c = table.ColumnIndex(column);
float[] y = table.Rows.Select(r => float.Parse(r[c], CultureInfo.InvariantCulture)).ToArray();
const int window = 24, horizon = 60;
int n = y.Length, testStart = n - horizon;

// Model the changes, standardised with the training months only.
float[] d = new float[n];
for (int t = 1; t < n; t++) d[t] = y[t] - y[t - 1];
float mean = d[1..testStart].Average();
float std = MathF.Sqrt(d[1..testStart].Select(v => (v - mean) * (v - mean)).Average());
Tensor Windows(int[] ends) => Tensor.FromArray(ends.SelectMany(t => d[(t - window)..t].Select(v => (v - mean) / std)).ToArray(), ends.Length, window, 1);

int[] trainEnds = Enumerable.Range(window + 1, testStart - window - 1).ToArray();
Tensor targets = Tensor.FromArray(trainEnds.Select(t => (d[t] - mean) / std).ToArray(), trainEnds.Length, 1);
Generator.ManualSeed(42);
var model = new Sequential(new LSTM(32, inputShape: [window, 1]), new Dense(1));
model.Compile(new MeanSquaredError(), new Adam(5e-3f));
model.Fit(Windows(trainEnds), targets, epochs: 40, batchSize: 32, verbose: 0);

int[] testEnds = Enumerable.Range(testStart, horizon).ToArray();
float[] change = model.Predict(Windows(testEnds)).ToArray();
double mae = testEnds.Select((t, h) => Math.Abs(y[t - 1] + change[h] * std + mean - y[t])).Average();
double naive = testEnds.Select(t => Math.Abs(y[t - 1] - y[t])).Average();
Console.WriteLine($"{file}: {n} points, last {horizon} held out");
Console.WriteLine($"one-step-ahead MAE: LSTM {mae:F3}, naive {naive:F3}");
