using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Backprop.Simd.Data;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Training;

/// <summary>
/// The same mathematics as <see cref="Backpropagation"/>, with a mini-batch processed as matrices (one row per
/// sample): the forward pass is <c>Z^l = A^{l-1} (W^l)^T + b^l</c> for all m samples at once, BP1 and BP2 produce
/// the m x n_l error matrices <c>Delta^l</c>, and BP4 computes <c>nabla_W^l = (Delta^l)^T A^{l-1}</c> once per
/// mini-batch instead of m rank-1 updates, so each weight matrix and its gradient cross the memory hierarchy once
/// per batch rather than once per sample. The products run on the register-blocked <see cref="Gemm"/> kernels.
/// The results equal the per-sample path's within float rounding (the sums run in another order).
/// </summary>
public static class BatchedBackpropagation
{
    /// <summary>
    /// Sets <see cref="Workspace.Nabla"/> to the gradient summed over the samples <paramref name="batch"/> of
    /// <paramref name="data"/> (overwriting it, unlike <see cref="Backpropagation.Backprop"/>, which adds).
    /// </summary>
    /// <exception cref="ArgumentException">A shape or index does not fit, or the batch is empty or larger than the workspace's <see cref="Workspace.BatchCapacity"/>.</exception>
    public static void Backprop(Network network, Workspace workspace, Dataset data, ReadOnlySpan<int> batch)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.CheckWorkspace(workspace);
        Backpropagation.CheckData(network, data);
        Guard.Positive(batch.Length);
        CheckCapacity(workspace, batch.Length, nameof(batch));
        Backpropagation.CheckIndices(data, batch);
        BackpropUnchecked(network, workspace, data, batch);
    }

    /// <summary>One plain SGD step, <c>params -= (eta/m) nabla</c>, with the gradient of <see cref="Backprop"/>.</summary>
    /// <exception cref="ArgumentException">As <see cref="Backprop"/>, or <paramref name="eta"/> is NaN, infinite or negative.</exception>
    public static void UpdateMiniBatch(Network network, Workspace workspace, Dataset data, ReadOnlySpan<int> batch, float eta)
    {
        Guard.FiniteNonNegative(eta);
        Backprop(network, workspace, data, batch);
        TensorPrimitives.MultiplyAdd(workspace.Nabla, -eta / batch.Length, network.Parameters, network.Parameters);
    }

    internal static void CheckCapacity(Workspace workspace, int m, string paramName)
    {
        if (m > workspace.BatchCapacity)
        {
            throw new ArgumentException(
                $"{paramName} has {m} samples, but the workspace's batch capacity is {workspace.BatchCapacity}; create it with new Workspace(network, batchCapacity: {m}) or more.",
                paramName);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackpropUnchecked(Network network, Workspace ws, Dataset data, ReadOnlySpan<int> batch)
    {
        ReadOnlySpan<int> sizes = network.Sizes;
        int m = batch.Length, outputLayer = network.OutputLayer, n0 = sizes[0], nL = sizes[^1];

        // Gather the batch's inputs and targets into contiguous m x n blocks: X = A^0 and Y.
        Span<float> x = ws.BatchInputs(m);
        Span<float> y = ws.BatchTargets(m);
        for (int i = 0; i < m; i++)
        {
            data.Input(batch[i]).CopyTo(x.Slice(i * n0, n0));
            data.Target(batch[i]).CopyTo(y.Slice(i * nL, nL));
        }

        FeedForwardUnchecked(network, ws, x, m);

        // BP1, for all m rows at once: Delta^L = (A^L - Y) ⊙ f'(Z^L), or A^L - Y for cross-entropy and log-likelihood
        Span<float> delta = ws.BatchDelta(outputLayer, m);
        Costs.OutputError(network.Cost, network.OutputActivation, ws.BatchZ(outputLayer, m), ws.BatchActivation(outputLayer, m), y, delta);

        for (int l = outputLayer; l >= 1; l--)
        {
            int rows = sizes[l], cols = sizes[l - 1];
            ReadOnlySpan<float> previous = l > 1 ? ws.BatchActivation(l - 1, m) : x;
            // BP3: nabla_b^l = sum over the batch of the rows of Delta^l
            Span<float> nablaB = ws.NablaBiasesUnchecked(l);
            delta[..rows].CopyTo(nablaB);
            for (int i = 1; i < m; i++)
            {
                TensorPrimitives.Add(nablaB, delta.Slice(i * rows, rows), nablaB);
            }

            // BP4: nabla_W^l = (Delta^l)^T A^{l-1}, one product for the whole batch
            Gemm.MultiplyRowsUnchecked(delta, 1, rows, previous, ws.NablaWeightsUnchecked(l), rows, m, cols, 0, rows);
            if (l > 1)
            {
                // BP2: Delta^{l-1} = (Delta^l W^l) ⊙ f'(Z^{l-1})
                Span<float> below = ws.BatchDelta(l - 1, m);
                Gemm.MultiplyRowsUnchecked(delta, rows, 1, network.WeightsUnchecked(l), below, m, rows, cols, 0, m);
                Activations.MultiplyByDerivativeUnchecked(network.Activations[l - 2], below, ws.BatchZ(l - 1, m), ws.BatchActivation(l - 1, m));
                delta = below;
            }
        }
    }

    /// <summary>The forward pass for m samples whose inputs are the rows of <paramref name="x"/>; returns <c>A^L</c> (m x n_L).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ReadOnlySpan<float> FeedForwardUnchecked(Network network, Workspace ws, ReadOnlySpan<float> x, int m)
    {
        ReadOnlySpan<int> sizes = network.Sizes;
        ReadOnlySpan<float> a = x;
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            int n = sizes[l];
            Span<float> z = ws.BatchZ(l, m);
            Span<float> next = ws.BatchActivation(l, m);
            // Z^l = A^{l-1} (W^l)^T + b^l
            Gemm.MultiplyTransposedAddBiasUnchecked(a, network.WeightsUnchecked(l), network.BiasesUnchecked(l), z, m, n, sizes[l - 1], 0, n);
            Activation f = network.Activations[l - 1];
            if (f == Activation.Softmax)
            {
                for (int i = 0; i < m; i++) // softmax normalises each sample's row
                {
                    Activations.ApplyUnchecked(f, z.Slice(i * n, n), next.Slice(i * n, n));
                }
            }
            else
            {
                Activations.ApplyUnchecked(f, z, next); // A^l = f(Z^l), element-wise over the whole block
            }

            a = next;
        }

        return a;
    }
}
