using Backprop.Simd.Data;
using Backprop.Simd.Runtime;

namespace Backprop.Simd.Tests;

/// <summary>Training steps written out by hand from the public backprop, for tests to compare the trainer with.</summary>
internal static class TestTraining
{
    /// <summary>The samples <paramref name="batch"/> of <paramref name="data"/> gathered: inputs m x n_0 and targets m x n_L.</summary>
    public static (float[] X, float[] Y) Gather(Dataset data, IReadOnlyList<int> batch)
    {
        var x = new float[batch.Count * data.InputSize];
        var y = new float[batch.Count * data.TargetSize];
        for (int i = 0; i < batch.Count; i++)
        {
            data.Input(batch[i]).CopyTo(x.AsSpan(i * data.InputSize));
            data.Target(batch[i]).CopyTo(y.AsSpan(i * data.TargetSize));
        }

        return (x, y);
    }

    /// <summary>The gradient summed over the samples <paramref name="batch"/>, from <see cref="Backpropagation.Backprop"/>.</summary>
    public static float[] Gradient(Network network, Dataset data, IReadOnlyList<int> batch)
    {
        (float[] x, float[] y) = Gather(data, batch);
        var workspace = new Workspace(network, batch.Count);
        Backpropagation.Backprop(network, workspace, x, y);
        return workspace.Nabla.ToArray();
    }

    /// <summary>The seed's <c>update_mini_batch</c>: <c>params -= (eta/m) nabla</c>, with the arithmetic of the trainer's plain SGD step.</summary>
    public static void UpdateMiniBatch(Network network, Dataset data, IReadOnlyList<int> batch, float eta)
    {
        float[] nabla = Gradient(network, data, batch);
        float[] p = network.Parameters.ToArray();
        UpdateRules.Sgd(p, nabla, -eta / batch.Count, 1f, 0f);
        network.SetParameters(p);
    }

    /// <summary>A copy of <paramref name="network"/>'s parameters with <paramref name="edit"/> applied, set back.</summary>
    public static void Edit(this Network network, Action<float[]> edit)
    {
        float[] p = network.Parameters.ToArray();
        edit(p);
        network.SetParameters(p);
    }
}
