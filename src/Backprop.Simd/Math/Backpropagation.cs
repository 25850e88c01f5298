namespace Backprop.Simd;

/// <summary>
/// The seed's <c>backprop</c>, the four equations BP1-BP4, for a mini-batch of m samples at once: each sample is a
/// row, so <c>Z^l</c>, <c>A^l</c> and <c>Delta^l</c> are <c>m x n_l</c> matrices, every equation is one matrix
/// product or one element-wise pass over all m rows, and the weight gradient is summed over the batch by the
/// product itself. One sample is the case m = 1.
/// </summary>
public static class Backpropagation
{
    /// <summary>
    /// Sets <see cref="Workspace.Nabla"/> to the gradient of the cost summed over the samples, the rows of
    /// <paramref name="x"/> and <paramref name="y"/> (it overwrites the arena), and leaves every <c>Z^l</c>,
    /// <c>A^l</c> and <c>Delta^l</c> in the workspace. Allocates nothing.
    /// </summary>
    /// <param name="network">The network; only read.</param>
    /// <param name="workspace">This thread's workspace, shaped like <paramref name="network"/>, with a
    /// <see cref="Workspace.Capacity"/> of at least the number of samples.</param>
    /// <param name="x">The inputs, row-major <c>m x n_0</c>.</param>
    /// <param name="y">The targets, row-major <c>m x n_L</c>.</param>
    /// <exception cref="ArgumentException">A length does not fit the network, or there are more samples than the workspace holds.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public static void Backprop(Network network, Workspace workspace, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.CheckWorkspace(workspace);
        int n0 = network.InputSize, nL = network.OutputSize;
        if (x.Length == 0 || x.Length % n0 != 0)
        {
            throw new ArgumentException($"x has length {x.Length}, expected a positive multiple of the network's input size {n0} (one row per sample).", nameof(x));
        }

        int m = x.Length / n0;
        if (m > workspace.Capacity)
        {
            throw new ArgumentException(
                $"x holds {m} samples, but the workspace's capacity is {workspace.Capacity}; create it with new Workspace(network, capacity: {m}) or more.", nameof(x));
        }

        if (y.Length != m * nL)
        {
            // Checked by hand: an interpolated description passed to Guard would be built (and allocated) on every call.
            throw new ArgumentException($"y has length {y.Length}, expected {m * nL} ({m} samples x the network's output size {nL}).", nameof(y));
        }

        using (workspace.Use(m))
        {
            Backprop(new Pass(network, workspace, x, default, m), y);
        }
    }

    /// <summary>BP1-BP4 for the m rows of <paramref name="pass"/> against the targets <paramref name="y"/> (m x n_L).</summary>
    internal static void Backprop(in Pass pass, ReadOnlySpan<float> y)
    {
        Network net = pass.Network;
        Workspace ws = pass.Workspace;
        int m = pass.M, L = net.OutputLayer;

        // Forward, keeping every Z^l and A^l: Z^l = A^{l-1} (W^l)^T + b^l, A^l = f(Z^l)
        for (int l = 1; l <= L; l++)
        {
            pass.Forward(l);
        }

        // BP1: Delta^L = (A^L - Y) ⊙ f'(Z^L) for the quadratic cost; A^L - Y for cross-entropy and log-likelihood
        Costs.OutputError(net.Cost, net.OutputActivation, ws.ZRows(L, m), ws.ARows(L, m), y, ws.DeltaRows(L, m));

        // BP2: Delta^{l-1} = (Delta^l W^l) ⊙ f'(Z^{l-1}), all before BP4 may step any W^l
        for (int l = L; l > 1; l--)
        {
            pass.PropagateError(l);
        }

        // BP3 and BP4: nabla_b^l = the sum of the rows of Delta^l, nabla_W^l = (Delta^l)^T A^{l-1}, summed over the batch by the product
        pass.Gradients();
    }
}
