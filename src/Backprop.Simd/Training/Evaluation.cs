using System.Numerics.Tensors;
using Backprop.Simd.Data;

namespace Backprop.Simd.Training;

/// <summary>The seed's <c>evaluate</c> and network2's <c>total_cost</c>.</summary>
public static class Evaluation
{
    /// <summary>Samples per block when a workspace with a batch capacity evaluates (fewer if its capacity is smaller).</summary>
    public const int BlockSize = 64;

    /// <summary>
    /// Counts the samples of <paramref name="data"/> whose output's argmax equals their label. Allocates nothing.
    /// A workspace with a batch capacity evaluates blocks of samples through the batched forward pass.
    /// </summary>
    /// <exception cref="ArgumentException">The data's or the workspace's shape does not match the network.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public static int Evaluate(Network network, Workspace workspace, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.CheckWorkspace(workspace);
        Backpropagation.CheckData(network, data);
        using Workspace.Lease lease = workspace.Use();
        int correct = 0;
        if (workspace.BatchCapacity > 0)
        {
            return BatchedBackpropagation.CountCorrect(network, workspace, data, 0, 1);
        }

        for (int i = 0; i < data.Count; i++)
        {
            if (Network.ArgMax(network.FeedForwardUnchecked(data.Input(i), workspace)) == data.Label(i))
            {
                correct++;
            }
        }

        return correct;
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
        network.CheckWorkspace(workspace);
        Backpropagation.CheckData(network, data);
        Guard.FiniteNonNegative(lambda);
        Guard.FiniteNonNegative(l1);
        using Workspace.Lease lease = workspace.Use();
        double cost = 0;
        for (int i = 0; i < data.Count; i++)
        {
            cost += Costs.Value(network.Cost, network.FeedForwardUnchecked(data.Input(i), workspace), data.Target(i));
        }

        int n = Math.Max(data.Count, 1);
        cost /= n;
        if (lambda > 0 || l1 > 0)
        {
            double squares = 0, magnitudes = 0;
            for (int l = 1; l <= network.OutputLayer; l++)
            {
                squares += TensorPrimitives.SumOfSquares(network.WeightsUnchecked(l));
                magnitudes += TensorPrimitives.SumOfMagnitudes(network.WeightsUnchecked(l));
            }

            cost += (0.5 * lambda / n * squares) + (l1 / (double)n * magnitudes);
        }

        return cost;
    }
}
