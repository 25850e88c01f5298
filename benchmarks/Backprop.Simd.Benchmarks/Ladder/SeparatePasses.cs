using System.Numerics.Tensors;
using Backprop.Simd.Data;
using Backprop.Simd.Training;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// The ladder's rung 2, built from public API: the per-sample Vector&lt;T&gt; kernels as separate passes per
/// mini-batch (the gradient arena cleared, every sample's gradient added by <see cref="Backpropagation.Backprop"/>,
/// then one pass applying the SGD step to the whole parameter arena), without the fusions and the prefetching of the
/// library's per-sample path.
/// </summary>
public static class SeparatePasses
{
    /// <summary>One epoch of plain SGD over <paramref name="order"/>, in mini-batches of <paramref name="m"/> (which must divide its length).</summary>
    public static void Epoch(Network network, Workspace workspace, Dataset data, ReadOnlySpan<int> order, int m, float eta)
    {
        for (int k = 0; k < order.Length; k += m)
        {
            workspace.Nabla.Clear();
            for (int i = k; i < k + m; i++)
            {
                Backpropagation.Backprop(network, workspace, data.Input(order[i]), data.Target(order[i]));
            }

            TensorPrimitives.MultiplyAdd(workspace.Nabla, -eta / m, network.Parameters, network.Parameters);
        }
    }
}
