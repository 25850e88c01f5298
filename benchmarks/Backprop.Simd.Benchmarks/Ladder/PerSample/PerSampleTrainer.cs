using System.Numerics.Tensors;
using Backprop.Simd.Data;
using Backprop.Simd.Kernels;

namespace Backprop.Simd.Benchmarks.Ladder.PerSample;

/// <summary>
/// The ladder's per-sample rungs: the seed's shape, one sample at a time through the matrix-vector, transposed and
/// rank-1 kernels, the gradient summed over the mini-batch in its own arena. <see cref="Epoch"/> with
/// <c>fused: false</c> is rung 2 (clear the arena, add every sample's gradient, one SGD pass over the parameters);
/// with <c>fused: true</c> it is rung 2' (the first sample stores its gradient instead of adding it, the last one
/// folds the SGD step into its rank-1 update, and the next sample's input is prefetched during each backward pass).
/// The library trains on the batched form (<see cref="Backpropagation"/>); this one stays here to be measured.
/// </summary>
public sealed class PerSampleTrainer
{
    private readonly Network _network;
    private readonly float[] _zs, _activations, _deltas, _nabla;

    /// <summary>Arenas for one sample of <paramref name="network"/>.</summary>
    public PerSampleTrainer(Network network)
    {
        _network = network;
        int neurons = 0;
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            neurons += network.Sizes[l];
        }

        _zs = new float[neurons];
        _activations = new float[neurons];
        _deltas = new float[neurons];
        _nabla = new float[network.ParameterCount];
    }

    /// <summary>One epoch of plain SGD over <paramref name="order"/> in mini-batches of <paramref name="m"/> (which must divide its length).</summary>
    public void Epoch(Dataset data, ReadOnlySpan<int> order, int m, float eta, bool fused)
    {
        for (int k = 0; k < order.Length; k += m)
        {
            ReadOnlySpan<int> batch = order.Slice(k, m);
            if (!fused)
            {
                Array.Clear(_nabla);
                foreach (int i in batch)
                {
                    Backprop(data.Input(i), data.Target(i), first: false, fold: false, 0f);
                }

                Span<float> p = _network.MutableParameters;
                TensorPrimitives.MultiplyAdd(_nabla, -eta / m, p, p);
            }
            else
            {
                for (int s = 0; s < m; s++)
                {
                    bool last = s == m - 1;
                    int following = !last ? batch[s + 1] : k + m < order.Length ? order[k + m] : -1;
                    Backprop(data.Input(batch[s]), data.Target(batch[s]), first: s == 0, fold: last, -eta / m, data, following);
                }

                // The bias step; the weights were stepped by the last sample's rank-1 update.
                for (int l = 1; l <= _network.OutputLayer; l++)
                {
                    Span<float> b = _network.Mutable(_network.Layout.BiasOffset(l), _network.Sizes[l]);
                    TensorPrimitives.MultiplyAdd(_nabla.AsSpan(_network.Layout.BiasOffset(l), b.Length), -eta / m, b, b);
                }
            }

            _network.ParametersChanged();
        }
    }

    // BP1-BP4 for one sample, the gradient stored (first), added, or, for the weights, folded into W as W += scale * (nabla + delta a^T).
    private void Backprop(ReadOnlySpan<float> x, ReadOnlySpan<float> y, bool first, bool fold, float scale, Dataset? data = null, int prefetch = -1)
    {
        Network net = _network;
        ReadOnlySpan<int> n = net.Sizes;
        int L = net.OutputLayer;
        ReadOnlySpan<float> a = x;
        for (int l = 1, offset = 0; l <= L; offset += n[l], l++)
        {
            Span<float> z = _zs.AsSpan(offset, n[l]), next = _activations.AsSpan(offset, n[l]);
            MatrixVector.MultiplyAdd(net.WeightsOf(l), n[l], n[l - 1], a, net.BiasesOf(l), z); // z^l = W^l a^{l-1} + b^l
            ActivationFunctions.Apply(net.Activations[l - 1], z, next, n[l]);                   // a^l = f(z^l)
            a = next;
        }

        if (data is not null && prefetch >= 0)
        {
            Prefetch.Rows(data.Inputs.Span, [prefetch], data.InputSize); // the next sample's input arrives during the backward pass
        }

        int outputOffset = _zs.Length - n[L];
        Span<float> delta = _deltas.AsSpan(outputOffset, n[L]);
        Costs.OutputError(net.Cost, net.OutputActivation, _zs.AsSpan(outputOffset, n[L]), _activations.AsSpan(outputOffset, n[L]), y, delta); // BP1
        for (int l = L, offset = outputOffset; l >= 1; l--)
        {
            int below = offset - (l > 1 ? n[l - 1] : 0);
            ReadOnlySpan<float> previous = l > 1 ? _activations.AsSpan(below, n[l - 1]) : x;
            Span<float> nablaB = _nabla.AsSpan(net.Layout.BiasOffset(l), n[l]);
            if (first)
            {
                TensorPrimitives.Add(delta, 0f, nablaB); // BP3, stored
            }
            else
            {
                TensorPrimitives.Add(nablaB, delta, nablaB); // BP3, added
            }

            Span<float> deltaBelow = l > 1 ? _deltas.AsSpan(below, n[l - 1]) : default;
            if (l > 1)
            {
                // BP2, before BP4 may fold the step into W^l
                TransposedMatrixVector.MultiplyUnchecked(net.WeightsOf(l), n[l], n[l - 1], delta, deltaBelow);
                ActivationFunctions.MultiplyByDerivative(net.Activations[l - 2], deltaBelow, _zs.AsSpan(below, n[l - 1]), _activations.AsSpan(below, n[l - 1]));
            }

            Span<float> nablaW = _nabla.AsSpan(net.Layout.WeightOffset(l), n[l] * n[l - 1]);
            if (fold)
            {
                Rank1.StepUnchecked(nablaW, net.Mutable(net.Layout.WeightOffset(l), nablaW.Length), n[l], n[l - 1], delta, previous, first, new SgdFold(scale, 1f)); // BP4, folded
            }
            else if (first)
            {
                Rank1.SetUnchecked(nablaW, n[l], n[l - 1], 1f, delta, previous); // BP4, stored
            }
            else
            {
                Rank1.UpdateUnchecked(nablaW, n[l], n[l - 1], 1f, delta, previous); // BP4, added
            }

            delta = deltaBelow;
            offset = below;
        }
    }
}
