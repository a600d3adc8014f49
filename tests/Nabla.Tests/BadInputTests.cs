namespace Nabla.Tests;

/// <summary>Bad input throws an exception whose message names the op and the shapes or index.</summary>
public class BadInputTests
{
    private static void Throws<TException>(Action action, params string[] fragments) where TException : Exception
    {
        var ex = Assert.ThrowsAny<TException>(action);
        foreach (string f in fragments) Assert.Contains(f, ex.Message);
    }

    [Fact]
    public void Mismatched_shapes_name_the_op_and_shapes()
    {
        Throws<ArgumentException>(() => _ = Tensor.Ones(2, 3) * Tensor.Ones(4, 3), "Mul", "[2, 3]", "[4, 3]");
        Throws<ArgumentException>(() => Tensor.Ones(2, 3).MatMul(Tensor.Ones(2, 3)), "MatMul", "[2, 3]");
        Throws<ArgumentException>(() => Tensor.Ones(2, 3, 4).MatMul(Tensor.Ones(3, 4, 5)), "MatMul", "batch");
        Throws<ArgumentException>(() => Tensor.Ones(2, 3).Reshape(4, 2), "Reshape", "[2, 3]", "[4, 2]");
        Throws<ArgumentException>(() => Tensor.Concat([Tensor.Ones(2, 3), Tensor.Ones(3, 3)], 1), "Concat", "[3, 3]");
        Throws<ArgumentException>(() => Tensor.Stack([Tensor.Ones(2), Tensor.Ones(3)]), "Stack", "[3]");
        Throws<ArgumentException>(() => Tensor.Ones(3, 2).Expand(3, 4), "Expand", "[3, 2]", "[3, 4]");
        Throws<ArgumentException>(() => Tensor.FromArray([1f, 2f, 3f], 2, 2), "FromArray", "[2, 2]");
        Throws<ArgumentException>(() => Tensor.Where(Tensor.Ones(3), Tensor.Ones(2), Tensor.Ones(3)), "Where");
    }

    [Fact]
    public void Wrong_ranks_and_axes_are_named()
    {
        Throws<ArgumentOutOfRangeException>(() => Tensor.Ones(2, 3).Sum(2), "Sum", "axis 2", "rank 2");
        Throws<ArgumentOutOfRangeException>(() => Tensor.Ones(2, 3).Softmax(-3), "Softmax", "axis -3");
        Throws<ArgumentException>(() => Tensor.Ones(2, 3).Permute(0), "Permute", "[2, 3]");
        Throws<ArgumentException>(() => Tensor.Ones(2, 3).Squeeze(0), "Squeeze", "[2, 3]");
        Throws<ArgumentException>(() => Tensor.Ones(2, 3).Gather(0, Tensor.Zeros(2)), "Gather", "[2]", "[2, 3]");
        Throws<ArgumentException>(() => Tensor.Scalar(1f).MatMul(Tensor.Ones(2)), "MatMul");
        Throws<ArgumentException>(() => Tensor.Ones(3, 0).Max(1), "Max", "empty");
    }

    [Fact]
    public void Out_of_range_indices_are_named()
    {
        Throws<IndexOutOfRangeException>(() => _ = Tensor.Ones(2, 3)[2, 0], "Index 2", "size 2");
        Throws<ArgumentException>(() => _ = Tensor.Ones(2, 3)[1], "rank 2");
        Throws<IndexOutOfRangeException>(() => Tensor.Ones(4, 2).IndexSelect(0, Tensor.FromArray([1f, 4f])), "IndexSelect", "index 4", "[0, 4)");
        Throws<IndexOutOfRangeException>(() => Tensor.Ones(4, 2).IndexSelect(0, Tensor.FromArray([1.5f])), "index 1.5");
        Throws<IndexOutOfRangeException>(() => Tensor.Ones(2, 3).Gather(1, Tensor.FromArray([3f, 0f], 2, 1)), "Gather", "index 3");
        Throws<IndexOutOfRangeException>(() => Tensor.Ones(2, 3).Select(0, 5), "Select", "index 5");
        Throws<InvalidOperationException>(() => Tensor.Ones(2).Item(), "Item", "[2]");
    }

    [Fact]
    public void Invalid_arguments_are_named()
    {
        Throws<ArgumentException>(() => Tensor.Zeros(-1, 2), "negative");
        Throws<ArgumentException>(() => Tensor.Arange(0, 1, 0), "step");
        Throws<ArgumentException>(() => Tensor.Ones(3).Clamp(2, 1), "Clamp", "min 2");
        Throws<ArgumentOutOfRangeException>(() => Tensor.Ones(3).Slice(0, 0, 2, 0), "Slice", "step");
        Throws<ArgumentException>(() => Tensor.Ones(2, 3).Reshape(-1, -1), "Reshape", "-1");
    }
}
