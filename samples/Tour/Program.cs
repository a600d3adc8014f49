// The README's five-minute tour, as a program: dotnet run --project samples/Tour
using Nabla;
using Nabla.Autograd;

// Tensors: creation, broadcasting, views.
var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);   // [[1, 2, 3], [4, 5, 6]]
var b = Tensor.FromArray([10f, 20f, 30f]);                  // shape [3]
Console.WriteLine(x + b);                                   // broadcast over rows
Console.WriteLine(x.T);                                     // a transposed view, no copy
Console.WriteLine(x.Sum(axis: 1));                          // tensor([6., 15.])

// Automatic differentiation.
var w = Tensor.RandN([3, 1], new Generator(seed: 0)).RequireGrad();
Tensor loss = x.MatMul(w).Sigmoid().Mean();
loss.Backward();
Console.WriteLine(w.Grad);                                  // d loss / d w, shape [3, 1]

// Updates without recording a graph.
using (Tensor.NoGrad()) w.SubInPlace(w.Grad! * 0.1f);

// Check any function's gradients against finite differences.
var check = GradCheck.Check(t => (t[0] * t[0]).Softmax(), [Tensor.RandN([2, 3])]);
Console.WriteLine(check.Passed);
