using Backprop.Simd.Data;
using Backprop.Simd.Reference;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// The ladder's second rung: the seed's per-sample SGD (sigmoid layers, quadratic cost) moved from double-precision
/// jagged arrays to <see cref="float"/> in flat row-major buffers allocated once, with every product done by the
/// scalar <see cref="NaiveKernels"/> (one multiply-add at a time, no vectors, no blocking). It isolates what the data
/// layout and the element type buy before any SIMD: no allocation per sample, no LINQ, half the bytes per weight.
/// </summary>
public sealed class NaiveFloatTrainer
{
    private readonly int[] _sizes;
    private readonly float[][] _weights, _biases, _nablaW, _nablaB, _zs, _activations, _deltas;

    /// <summary>Copies the parameters of <paramref name="network"/> (sigmoid layers, quadratic cost).</summary>
    public NaiveFloatTrainer(Network network)
    {
        _sizes = network.Sizes.ToArray();
        int layers = _sizes.Length - 1;
        _weights = new float[layers][];
        _biases = new float[layers][];
        _nablaW = new float[layers][];
        _nablaB = new float[layers][];
        _zs = new float[layers][];
        _activations = new float[layers][];
        _deltas = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            _weights[l] = network.Weights(l + 1).ToArray();
            _biases[l] = network.Biases(l + 1).ToArray();
            _nablaW[l] = new float[_weights[l].Length];
            _nablaB[l] = new float[_biases[l].Length];
            _zs[l] = new float[_sizes[l + 1]];
            _activations[l] = new float[_sizes[l + 1]];
            _deltas[l] = new float[_sizes[l + 1]];
        }
    }

    /// <summary>
    /// Trains on the samples <paramref name="order"/> of <paramref name="data"/>, in that order, cut into mini-batches of
    /// <paramref name="miniBatch"/>; returns the first output bias so the work cannot be dropped.
    /// </summary>
    public float Epoch(Dataset data, ReadOnlySpan<int> order, int miniBatch, float eta)
    {
        for (int k = 0; k < order.Length; k += miniBatch)
        {
            ReadOnlySpan<int> batch = order.Slice(k, Math.Min(miniBatch, order.Length - k));
            for (int l = 0; l < _nablaW.Length; l++)
            {
                Array.Clear(_nablaW[l]);
                Array.Clear(_nablaB[l]);
            }

            foreach (int i in batch)
            {
                Backprop(data.Input(i), data.Target(i));
            }

            float scale = eta / batch.Length;
            for (int l = 0; l < _weights.Length; l++)
            {
                Step(_weights[l], _nablaW[l], scale);
                Step(_biases[l], _nablaB[l], scale);
            }
        }

        return _biases[^1][0];
    }

    private void Backprop(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int last = _weights.Length - 1;
        ReadOnlySpan<float> a = x;
        for (int l = 0; l <= last; l++)
        {
            NaiveKernels.MatrixVectorMultiplyAdd(_weights[l], _sizes[l + 1], _sizes[l], a, _biases[l], _zs[l]);
            NaiveKernels.Sigmoid(_zs[l], _activations[l]);
            a = _activations[l];
        }

        NaiveKernels.OutputErrorQuadratic(_activations[last], y, _deltas[last]);
        for (int l = last; l >= 0; l--)
        {
            ReadOnlySpan<float> previous = l > 0 ? _activations[l - 1] : x;
            float[] delta = _deltas[l], nablaB = _nablaB[l];
            for (int j = 0; j < delta.Length; j++)
            {
                nablaB[j] += delta[j];
            }

            NaiveKernels.Rank1Update(_nablaW[l], _sizes[l + 1], _sizes[l], 1f, delta, previous);
            if (l > 0)
            {
                NaiveKernels.TransposedMatrixVectorMultiply(_weights[l], _sizes[l + 1], _sizes[l], delta, _deltas[l - 1]);
                NaiveKernels.MultiplyBySigmoidPrime(_deltas[l - 1], _activations[l - 1]);
            }
        }
    }

    private static void Step(float[] parameters, float[] nabla, float scale)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i] -= scale * nabla[i];
        }
    }
}
