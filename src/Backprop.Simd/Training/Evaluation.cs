using Backprop.Simd.Data;

namespace Backprop.Simd.Training;

/// <summary>The seed's <c>evaluate</c>: how many samples the network classifies correctly.</summary>
public static class Evaluation
{
    /// <summary>
    /// Counts the samples of <paramref name="data"/> whose output's argmax equals their label. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">The data's or the workspace's shape does not match the network.</exception>
    public static int Evaluate(Network network, Workspace workspace, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.CheckWorkspace(workspace);
        Backpropagation.CheckData(network, data);
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            if (Network.ArgMax(network.FeedForwardUnchecked(data.Input(i), workspace)) == data.Label(i))
            {
                correct++;
            }
        }

        return correct;
    }
}
