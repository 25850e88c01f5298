namespace Backprop.Simd.Training;

/// <summary>
/// What the training path does with a weight gradient: store it, or fold it into the weights as an SGD step
/// (<c>W = decay W + scale nabla</c>), which is <c>Gemm.MultiplyStrided</c> with alpha = scale, beta = decay.
/// </summary>
internal readonly record struct Epilogue(bool Fold, float Scale, float Decay)
{
    public static Epilogue Store => default;

    public static Epilogue Step(float scale, float decay) => new(true, scale, decay);

    /// <summary>The kernels' alpha: the scale when folding, else 1.</summary>
    public float Alpha => Fold ? Scale : 1f;

    /// <summary>The kernels' beta: the decay when folding, else 0 (store).</summary>
    public float Beta => Fold ? Decay : 0f;
}
