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
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public static void Backprop(Network network, Workspace workspace, Dataset data, ReadOnlySpan<int> batch)
    {
        CheckBatch(network, workspace, data, batch);
        using (workspace.Use())
        {
            BackpropUnchecked(network, workspace, data, batch);
        }
    }

    /// <summary>One plain SGD step, <c>params -= (eta/m) nabla</c>, with the gradient of <see cref="Backprop"/>.</summary>
    /// <exception cref="ArgumentException">As <see cref="Backprop"/>, or <paramref name="eta"/> is NaN, infinite or negative.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public static void UpdateMiniBatch(Network network, Workspace workspace, Dataset data, ReadOnlySpan<int> batch, float eta)
    {
        Guard.FiniteNonNegative(eta);
        CheckBatch(network, workspace, data, batch);
        using (workspace.Use())
        {
            BackpropUnchecked(network, workspace, data, batch);
            TensorPrimitives.MultiplyAdd(workspace.Nabla, -eta / batch.Length, network.Parameters, network.Parameters);
        }
    }

    private static void CheckBatch(Network network, Workspace workspace, Dataset data, ReadOnlySpan<int> batch)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.CheckWorkspace(workspace);
        Backpropagation.CheckData(network, data);
        Guard.Positive(batch.Length);
        CheckCapacity(workspace, batch.Length, nameof(batch));
        Backpropagation.CheckIndices(data, batch);
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

    /// <summary>
    /// The batched backprop. With <paramref name="parallel"/>, the matrix products are split among its workers by
    /// output (see <see cref="ParallelBatch"/>); everything else runs here, identically either way. With a folding
    /// <paramref name="step"/> the weight gradient is not stored: each <c>nabla_W^l</c> element is folded into
    /// <c>W^l</c> as soon as it is computed (a plain SGD step, <c>W = decay W + scale nabla_W</c>), after BP2 has used
    /// <c>W^l</c>; the bias gradients are stored as usual.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackpropUnchecked(Network network, Workspace ws, Dataset data, ReadOnlySpan<int> batch, ParallelBatch? parallel = null, Epilogue step = default, ReadOnlySpan<int> next = default)
    {
        ReadOnlySpan<int> sizes = network.Sizes;
        int m = batch.Length, outputLayer = network.OutputLayer, nL = sizes[^1];

        // The inputs stay where they are in the data set (rows picked by index); the targets are gathered into Y.
        batch.CopyTo(ws.BatchIndices(m));
        Span<float> y = ws.BatchTargets(m);
        for (int i = 0; i < m; i++)
        {
            data.Target(batch[i]).CopyTo(y.Slice(i * nL, nL));
        }

        // The next mini-batch's inputs start on their way from memory while this one's backward pass runs: on one
        // thread right after the forward pass; on several, every worker fetches them into its own core's cache after
        // its share of the first layer's gradient (each reads all of them in the next forward pass).
        next = next[..Math.Min(next.Length, ws.BatchCapacity)];
        next.CopyTo(ws.NextIndices(next.Length));
        parallel?.Begin(data, next.Length);
        FeedForwardUnchecked(network, ws, data.InputRows(0, data.Count), ws.BatchIndices(m), m, parallel);
        if (parallel is null || !parallel.Worthwhile(BackwardWork(sizes, 1, m)))
        {
            data.PrefetchInputs(next);
        }

        // BP1, for all m rows at once: Delta^L = (A^L - Y) ⊙ f'(Z^L), or A^L - Y for cross-entropy and log-likelihood
        Span<float> delta = ws.BatchDelta(outputLayer, m);
        Costs.OutputError(network.Cost, network.OutputActivation, ws.BatchZ(outputLayer, m), ws.BatchActivation(outputLayer, m), y, delta);

        for (int l = outputLayer; l >= 1; l--)
        {
            int rows = sizes[l];
            // BP3: nabla_b^l = sum over the batch of the rows of Delta^l
            Span<float> nablaB = ws.NablaBiasesUnchecked(l);
            delta[..rows].CopyTo(nablaB);
            for (int i = 1; i < m; i++)
            {
                TensorPrimitives.Add(nablaB, delta.Slice(i * rows, rows), nablaB);
            }

            bool split = parallel is not null && parallel.Worthwhile(BackwardWork(sizes, l, m));
            if (l > 1)
            {
                // BP2 (first half): Delta^{l-1} = Delta^l W^l, before any step changes W^l
                if (split)
                {
                    parallel!.Run(ParallelBatch.Phase.Bp2, l, m, step);
                }
                else
                {
                    Bp2Share(network, ws, l, m, 0, 1);
                }
            }

            // BP4: nabla_W^l = (Delta^l)^T A^{l-1}, one product for the whole batch (or folded into W^l)
            if (split)
            {
                parallel!.Run(ParallelBatch.Phase.Gradient, l, m, step);
            }
            else
            {
                GradientShare(network, ws, data, l, m, step, 0, 1);
            }

            if (l > 1)
            {
                // BP2 (second half): ⊙ f'(Z^{l-1})
                Span<float> below = ws.BatchDelta(l - 1, m);
                ActivationFunctions.MultiplyByDerivative(network.Activations[l - 2], below, ws.BatchZ(l - 1, m), ws.BatchActivation(l - 1, m));
                delta = below;
            }
        }

        parallel?.End();
    }

    /// <summary>
    /// The forward pass for m samples whose inputs are the rows <paramref name="rows"/> of <paramref name="x"/> (or its
    /// first m rows when <paramref name="rows"/> is empty); returns <c>A^L</c> (m x n_L).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ReadOnlySpan<float> FeedForwardUnchecked(Network network, Workspace ws, ReadOnlySpan<float> x, ReadOnlySpan<int> rows, int m, ParallelBatch? parallel = null)
    {
        ReadOnlySpan<int> sizes = network.Sizes;
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            int n = sizes[l];
            // Z^l = A^{l-1} (W^l)^T + b^l
            if (parallel is null || !parallel.Worthwhile((long)m * n * sizes[l - 1]))
            {
                ForwardShare(network, ws, x, rows, l, m, 0, 1);
            }
            else
            {
                parallel.Run(ParallelBatch.Phase.Forward, l, m, default);
            }

            Activate(network, ws, l, m);
        }

        return ws.BatchActivation(network.OutputLayer, m);
    }

    /// <summary>
    /// The forward pass for the first m rows of <paramref name="x"/> with each layer's weights given transposed
    /// (<c>(W^l)^T</c> at <see cref="Layout.WeightOffset"/> of <paramref name="transposed"/>), through the
    /// outer-product kernel <c>Gemm.Multiply</c>, skipping inputs that are zero in a whole block of
    /// samples when <paramref name="skipZeroInputs"/> (exact only for finite weights); returns <c>A^L</c> (m x n_L).
    /// </summary>
    internal static ReadOnlySpan<float> FeedForwardTransposed(Network network, Workspace ws, ReadOnlySpan<float> transposed, ReadOnlySpan<float> x, int m, bool skipZeroInputs)
    {
        ReadOnlySpan<int> sizes = network.Sizes;
        Layout layout = network.Layout;
        for (int l = 1; l <= network.OutputLayer; l++)
        {
            int n = sizes[l], k = sizes[l - 1];
            // Z^l = A^{l-1} (W^l)^T + b^l
            ReadOnlySpan<float> input = l > 1 ? ws.BatchActivation(l - 1, m) : x;
            ref ZeroSkipping skip = ref ws.ZeroSkipping(l); // per layer: the inputs' density carries over from the last call
            skip.Enabled = skipZeroInputs;
            bool scan = skip.Scan();
            int sparseBlocks = Gemm.Multiply(input, transposed.Slice(layout.WeightOffset(l), n * k), network.BiasesUnchecked(l), ws.BatchZ(l, m), m, n, k, scan);
            if (scan)
            {
                skip.Record(sparseBlocks);
            }
            Activate(network, ws, l, m);
        }

        return ws.BatchActivation(network.OutputLayer, m);
    }

    /// <summary>A^l = f(Z^l) for a block of m samples: element-wise over the whole block; softmax normalises each sample's row.</summary>
    private static void Activate(Network network, Workspace ws, int l, int m)
    {
        int n = network.Sizes[l];
        Span<float> z = ws.BatchZ(l, m), a = ws.BatchActivation(l, m);
        ActivationFunctions.ApplyRows(network.Activations[l - 1], z, a, n);
    }

    /// <summary>Worker <paramref name="worker"/>'s neurons of layer l's forward product (all of them for 0 of 1).</summary>
    internal static void ForwardShare(Network network, Workspace ws, ReadOnlySpan<float> x, ReadOnlySpan<int> rows, int l, int m, int worker, int workers)
    {
        ReadOnlySpan<int> sizes = network.Sizes;
        (int start, int end) = Share(sizes[l], worker, workers); // the same neurons as GradientShare's rows: they stay in one core's cache
        if (start < end)
        {
            if (l > 1)
            {
                Gemm.MultiplyTransposed(ws.BatchActivation(l - 1, m), default, network.WeightsUnchecked(l), network.BiasesUnchecked(l), ws.BatchZ(l, m), m, sizes[l], sizes[l - 1], start, end);
            }
            else
            {
                Gemm.MultiplyTransposed(x, rows, network.WeightsUnchecked(l), network.BiasesUnchecked(l), ws.BatchZ(l, m), m, sizes[l], sizes[l - 1], start, end);
            }
        }
    }

    /// <summary>Multiply-adds of layer l's backward products; also decides whether its update is split the same way.</summary>
    internal static long BackwardWork(ReadOnlySpan<int> sizes, int l, int m) => (long)m * sizes[l] * sizes[l - 1] * (l > 1 ? 2 : 1);

    /// <summary>Worker <paramref name="worker"/>'s rows of <c>nabla_W^l = (Delta^l)^T A^{l-1}</c>, stored or folded into <c>W^l</c>.</summary>
    internal static void GradientShare(Network network, Workspace ws, Dataset data, int l, int m, Epilogue step, int worker, int workers)
    {
        ReadOnlySpan<int> sizes = network.Sizes;
        int rows = sizes[l], cols = sizes[l - 1];
        (int start, int end) = Share(rows, worker, workers);
        if (start < end)
        {
            Span<float> destination = step.Fold ? network.Parameters.Slice(network.Layout.WeightOffset(l), rows * cols) : ws.NablaWeightsUnchecked(l);
            if (l > 1)
            {
                Gemm.MultiplyStrided(ws.BatchDelta(l, m), 1, rows, ws.BatchActivation(l - 1, m), default, destination, rows, m, cols, start, end, step.Alpha, step.Beta);
            }
            else
            {
                Gemm.MultiplyStrided(ws.BatchDelta(l, m), 1, rows, data.InputRows(0, data.Count), ws.BatchIndices(m), destination, rows, m, cols, start, end, step.Alpha, step.Beta);
            }
        }
    }

    /// <summary>Worker <paramref name="worker"/>'s samples of BP2's product <c>Delta^l W^l</c> (into <c>Delta^{l-1}</c>).</summary>
    internal static void Bp2Share(Network network, Workspace ws, int l, int m, int worker, int workers)
    {
        ReadOnlySpan<int> sizes = network.Sizes;
        int rows = sizes[l], cols = sizes[l - 1];
        (int start, int end) = Share(m, worker, workers);
        if (start < end)
        {
            Gemm.MultiplyStrided(ws.BatchDelta(l, m), rows, 1, network.WeightsUnchecked(l), default, ws.BatchDelta(l - 1, m), m, rows, cols, start, end, 1f, 0f);
        }
    }

    /// <summary>
    /// Correctly classified samples among blocks <paramref name="worker"/>, <paramref name="worker"/> + <paramref name="workers"/>, ...
    /// of <see cref="Workspace.BatchCapacity"/> samples each, every block through the batched forward pass.
    /// </summary>
    internal static int CountCorrect(Network network, Workspace ws, Dataset data, int worker, int workers)
    {
        int block = ws.BatchCapacity, n = network.OutputSize, correct = 0;
        for (int start = worker * block; start < data.Count; start += workers * block)
        {
            int count = Math.Min(block, data.Count - start);
            correct += Correct(FeedForwardUnchecked(network, ws, data.InputRows(start, count), default, count), n, data, start);
        }

        return correct;
    }

    /// <summary>How many rows of <paramref name="outputs"/> (n wide) have their argmax at the label of samples <paramref name="start"/>, ... of <paramref name="data"/>.</summary>
    internal static int Correct(ReadOnlySpan<float> outputs, int n, Dataset data, int start)
    {
        int correct = 0;
        for (int i = 0; i < outputs.Length / n; i++)
        {
            if (Network.ArgMax(outputs.Slice(i * n, n)) == data.Label(start + i))
            {
                correct++;
            }
        }

        return correct;
    }

    /// <summary>
    /// Shares of a product end at even rows: 100 neurons split 50 / 50, where multiples of the 4-row tile split them
    /// 48 / 52 and left one core waiting 8% of every phase; a 2-row tile costs less than that. The kernels give the same
    /// bits at any split (see GemmPropertyTests), so this changes no result.
    /// </summary>
    internal const int ShareAlign = 2;

    /// <summary>Worker w's share of [0, total), cut at multiples of <see cref="ShareAlign"/>.</summary>
    internal static (int Start, int End) Share(int total, int worker, int workers)
    {
        int chunks = (total + ShareAlign - 1) / ShareAlign;
        int start = Math.Min(total, (int)((long)chunks * worker / workers) * ShareAlign);
        int end = Math.Min(total, (int)((long)chunks * (worker + 1) / workers) * ShareAlign);
        return (start, end);
    }
}
