using System.Buffers;
using System.Numerics.Tensors;
using Backprop.Simd.Data;

namespace Backprop.Simd.Runtime;

/// <summary>
/// The seed's <c>evaluate</c> and network2's <c>total_cost</c>, one sample at a time through
/// <see cref="Network.FeedForward"/> on the caller's thread. For many samples on several threads, use
/// <see cref="BatchInference.Evaluate"/>.
/// </summary>
public static class Evaluation
{
    /// <summary>Counts the samples of <paramref name="data"/> whose output's argmax equals their label. Allocates nothing.</summary>
    /// <exception cref="ArgumentException">The data's or the workspace's shape does not match the network.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public static int Evaluate(Network network, Workspace workspace, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(network);
        CheckData(network, data);
        float[]? rented = null;
        Span<float> row = Row(data, stackalloc float[StackRow], ref rented);
        try
        {
            int correct = 0;
            for (int i = 0; i < data.Count; i++)
            {
                if (network.Predict(Input(data, i, row), workspace) == data.Label(i))
                {
                    correct++;
                }
            }

            return correct;
        }
        finally
        {
            Return(rented);
        }
    }

    /// <summary>
    /// network2's <c>total_cost</c>: the network's cost averaged over <paramref name="data"/>, plus the regularisation
    /// terms <c>lambda/(2n) sum w^2</c> and <c>l1/n sum |w|</c> over every weight (not the biases), with
    /// <c>n = data.Count</c>. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not match, or a strength is negative or not finite.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public static double TotalCost(Network network, Workspace workspace, Dataset data, float lambda = 0f, float l1 = 0f)
    {
        ArgumentNullException.ThrowIfNull(network);
        CheckData(network, data);
        Guard.FiniteNonNegative(lambda);
        Guard.FiniteNonNegative(l1);
        network.CheckWorkspace(workspace);
        double cost = 0;
        float[]? rented = null;
        Span<float> row = Row(data, stackalloc float[StackRow], ref rented);
        try
        {
            // One claim for the whole set: each output is read before another thread could overwrite it.
            using (workspace.Use(1))
            {
                for (int i = 0; i < data.Count; i++)
                {
                    cost += Costs.Value(network.Cost, network.OutputActivation, network.FeedForwardOne(Input(data, i, row), workspace), data.Target(i));
                }
            }
        }
        finally
        {
            Return(rented);
        }

        int n = Math.Max(data.Count, 1);
        cost /= n;
        if (lambda > 0 || l1 > 0)
        {
            double squares = 0, magnitudes = 0;
            for (int l = 1; l <= network.OutputLayer; l++)
            {
                squares += TensorPrimitives.SumOfSquares(network.WeightsOf(l));
                magnitudes += TensorPrimitives.SumOfMagnitudes(network.WeightsOf(l));
            }

            cost += (0.5 * lambda / n * squares) + (l1 / (double)n * magnitudes);
        }

        return cost;
    }

    // A byte set's inputs are widened one at a time into a row on the stack, or rented when too long for it.
    private const int StackRow = 1024;

    private static Span<float> Row(Dataset data, Span<float> stack, ref float[]? rented)
    {
        if (!data.HoldsBytes)
        {
            return default;
        }

        if (data.InputSize <= stack.Length)
        {
            return stack[..data.InputSize];
        }

        rented = ArrayPool<float>.Shared.Rent(data.InputSize);
        return rented.AsSpan(0, data.InputSize);
    }

    private static ReadOnlySpan<float> Input(Dataset data, int index, Span<float> row) =>
        data.HoldsBytes ? data.Input(index, row) : data.Input(index);

    private static void Return(float[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Throws unless <paramref name="data"/> has the network's input and output sizes.</summary>
    internal static void CheckData(Network network, Dataset data, string paramName = "data")
    {
        ArgumentNullException.ThrowIfNull(data, paramName);
        if (data.InputSize != network.InputSize || data.TargetSize != network.OutputSize)
        {
            throw new ArgumentException(
                $"{paramName} has inputs of {data.InputSize} and targets of {data.TargetSize}, expected {network.InputSize} and {network.OutputSize} (the network's input and output sizes).",
                paramName);
        }
    }
}
