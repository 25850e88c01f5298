using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using Backprop.Simd.Data;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Training;

/// <summary>
/// The seed's <c>backprop</c> and <c>update_mini_batch</c>: the four equations BP1-BP4, run on the
/// <see cref="Workspace"/> arenas, for the network's own cost (the seed's quadratic <c>C = 1/2 ||a^L - y||^2</c> by
/// default) and per-layer activations. Nothing here allocates.
/// </summary>
public static class Backpropagation
{
    /// <summary>
    /// Backpropagates one sample and ADDS its gradient <c>(nabla_b, nabla_w)</c> to <see cref="Workspace.Nabla"/>
    /// (clear it first for a single sample's gradient). Leaves <c>z^l</c>, <c>a^l</c> and <c>delta^l</c> in the workspace.
    /// </summary>
    /// <param name="network">The network; only read.</param>
    /// <param name="workspace">This thread's workspace, shaped like <paramref name="network"/>.</param>
    /// <param name="x">Input, length <see cref="Network.InputSize"/>.</param>
    /// <param name="y">Target, length <see cref="Network.OutputSize"/>.</param>
    /// <exception cref="ArgumentException">A length or the workspace's shape does not match the network.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public static void Backprop(Network network, Workspace workspace, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.CheckWorkspace(workspace);
        Guard.Length(x.Length, network.InputSize, "the network's input size");
        Guard.Length(y.Length, network.OutputSize, "the network's output size");
        using (workspace.Use())
        {
            BackpropUnchecked(network, workspace, x, y);
        }
    }

    /// <summary>
    /// One step of gradient descent on a mini-batch: the gradient is summed over the samples
    /// <paramref name="batch"/> of <paramref name="data"/>, then <c>W -= (eta/m) nabla_W</c> and
    /// <c>b -= (eta/m) nabla_b</c>, with <c>m</c> the batch's size. The weight step is applied by the last sample's
    /// rank-1 update as it completes each gradient element, so afterwards <see cref="Workspace.Nabla"/> holds the
    /// complete bias gradients, but what its weight part holds is unspecified (for one sample it is not even
    /// written). For the weight gradients, clear the arena and call <see cref="Backprop"/> for each sample.
    /// </summary>
    /// <param name="network">The network to update.</param>
    /// <param name="workspace">This thread's workspace, shaped like <paramref name="network"/>.</param>
    /// <param name="data">The samples.</param>
    /// <param name="batch">Indices into <paramref name="data"/>; at least one.</param>
    /// <param name="eta">Learning rate, finite and &gt;= 0.</param>
    /// <exception cref="ArgumentException">A shape, an index or <paramref name="eta"/> is invalid.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public static void UpdateMiniBatch(Network network, Workspace workspace, Dataset data, ReadOnlySpan<int> batch, float eta)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.CheckWorkspace(workspace);
        CheckData(network, data);
        Guard.Positive(batch.Length);
        Guard.FiniteNonNegative(eta);
        CheckIndices(data, batch);
        using (workspace.Use())
        {
            UpdateMiniBatchUnchecked(network, workspace, data, batch, eta);
        }
    }

    internal static void CheckIndices(Dataset data, ReadOnlySpan<int> batch)
    {
        foreach (int i in batch)
        {
            if ((uint)i >= (uint)data.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(batch), i, $"batch holds index {i}, expected 0 to {data.Count - 1}.");
            }
        }
    }

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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void UpdateMiniBatchUnchecked(Network network, Workspace workspace, Dataset data, ReadOnlySpan<int> batch, float eta)
    {
        // W -= (eta / m) * nabla_W inside the last sample's rank-1 update (BP4), then b -= (eta / m) * nabla_b.
        float scale = -eta / batch.Length;
        AccumulateMiniBatchUnchecked(network, workspace, data, batch, Epilogue.Step(scale, 1f), default);
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            Span<float> biases = network.Parameters.Slice(network.Layout.BiasOffset(l), network.Sizes[l]);
            TensorPrimitives.MultiplyAdd(workspace.NablaBiasesUnchecked(l), scale, biases, biases);
        }
    }

    /// <summary>
    /// The per-sample path's mini-batch: backpropagates the samples <paramref name="batch"/> one at a time into
    /// <see cref="Workspace.Nabla"/>, which need not be cleared first (the first sample stores its gradient instead
    /// of adding it). With <paramref name="step"/> folding (plain SGD), the last sample's BP4 applies the step to
    /// the weights directly and does not write <c>nabla_W</c>; the bias gradients are always complete. Each
    /// sample's successor, the first of <paramref name="next"/> after the last, is prefetched into L2 while it runs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AccumulateMiniBatchUnchecked(Network network, Workspace ws, Dataset data, ReadOnlySpan<int> batch, Epilogue step, ReadOnlySpan<int> next)
    {
        for (int s = 0; s < batch.Length; s++)
        {
            ReadOnlySpan<int> following = s + 1 < batch.Length ? batch.Slice(s + 1, 1) : next.IsEmpty ? default : next[..1];
            int i = batch[s];
            BackpropUnchecked(network, ws, data.Input(i), data.Target(i), first: s == 0, s == batch.Length - 1 ? step : Epilogue.Store, data, following);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackpropUnchecked(Network network, Workspace ws, ReadOnlySpan<float> x, ReadOnlySpan<float> y) =>
        BackpropUnchecked(network, ws, x, y, first: false, Epilogue.Store, null, default);

    /// <summary>
    /// BP1-BP4 for one sample. The gradient is added to <see cref="Workspace.Nabla"/>, or stored when
    /// <paramref name="first"/>; a folding <paramref name="step"/> writes the weights instead of <c>nabla_W</c>
    /// (see <see cref="AccumulateMiniBatchUnchecked"/>). <paramref name="prefetch"/>'s inputs in
    /// <paramref name="data"/> are prefetched after the forward pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackpropUnchecked(Network network, Workspace ws, ReadOnlySpan<float> x, ReadOnlySpan<float> y, bool first, Epilogue step, Dataset? data, ReadOnlySpan<int> prefetch)
    {
        ReadOnlySpan<int> sizes = network.Sizes;
        int outputLayer = network.OutputLayer;

        // Forward pass, keeping every z^l and a^l in the workspace.
        network.FeedForwardUnchecked(x, ws);
        data?.PrefetchInputs(prefetch); // the next sample's input arrives in L2 during the backward pass

        // BP1: delta^L = (a^L - y) ⊙ f'(z^L) for the quadratic cost; a^L - y for cross-entropy and log-likelihood
        Span<float> delta = ws.DeltaUnchecked(outputLayer);
        Costs.OutputError(network.Cost, network.OutputActivation, ws.ZUnchecked(outputLayer), ws.ActivationUnchecked(outputLayer), y, delta);

        for (int l = outputLayer; l >= 1; l--)
        {
            ReadOnlySpan<float> previous = l > 1 ? ws.ActivationUnchecked(l - 1) : x;
            Span<float> below = l > 1 ? ws.DeltaUnchecked(l - 1) : default;

            // BP3: dC/db^l = delta^l
            if (first)
            {
                TensorPrimitives.Add(delta, 0f, ws.NablaBiasesUnchecked(l)); // 0 + delta, as on a cleared arena (-0 becomes +0)
            }
            else
            {
                TensorPrimitives.Add(ws.NablaBiasesUnchecked(l), delta, ws.NablaBiasesUnchecked(l));
            }

            // BP2: delta^{l-1} = ((W^l)^T delta^l) ⊙ f'(z^{l-1}), before BP4 may fold the step into W^l
            if (l > 1)
            {
                TransposedMatrixVector.MultiplyUnchecked(network.WeightsUnchecked(l), sizes[l], sizes[l - 1], delta, below);
                ActivationFunctions.MultiplyByDerivative(network.Activations[l - 2], below, ws.ZUnchecked(l - 1), ws.ActivationUnchecked(l - 1));
            }

            // BP4: dC/dW^l = delta^l (a^{l-1})^T, a rank-1 update (stored, added, or folded into W^l)
            Span<float> nablaW = ws.NablaWeightsUnchecked(l);
            if (step.Fold)
            {
                Span<float> weights = network.Parameters.Slice(network.Layout.WeightOffset(l), nablaW.Length);
                Rank1.StepUnchecked(nablaW, weights, sizes[l], sizes[l - 1], delta, previous, first, step);
            }
            else if (first)
            {
                Rank1.SetUnchecked(nablaW, sizes[l], sizes[l - 1], 1f, delta, previous);
            }
            else
            {
                Rank1.UpdateUnchecked(nablaW, sizes[l], sizes[l - 1], 1f, delta, previous);
            }

            delta = below;
        }
    }
}
