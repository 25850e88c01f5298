namespace Backprop.Simd.Data;

/// <summary>
/// A labelled data set held as contiguous buffers, never an array per sample: <see cref="Count"/> inputs of
/// <see cref="InputSize"/> floats back to back, the same number of targets of <see cref="TargetSize"/> floats,
/// and one integer label per sample (the class whose output should be largest).
/// </summary>
public sealed class Dataset
{
    private readonly float[] _inputs;
    private readonly float[] _targets;
    private readonly int[] _labels;
    private readonly int _start;

    /// <summary>Creates a data set over existing buffers (not copied). Labels are taken as the argmax of each target.</summary>
    /// <param name="inputs">Row-major <c>count x inputSize</c>.</param>
    /// <param name="inputSize">Floats per input.</param>
    /// <param name="targets">Row-major <c>count x targetSize</c>.</param>
    /// <param name="targetSize">Floats per target.</param>
    /// <exception cref="ArgumentException">The buffers do not hold whole, equally many samples.</exception>
    public Dataset(float[] inputs, int inputSize, float[] targets, int targetSize)
        : this(inputs, inputSize, targets, targetSize, LabelsFromTargets(targets, targetSize))
    {
    }

    private Dataset(float[] inputs, int inputSize, float[] targets, int targetSize, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        Guard.Positive(inputSize);
        Guard.Positive(targetSize);
        if (inputs.Length % inputSize != 0)
        {
            throw new ArgumentException($"inputs has length {inputs.Length}, expected a multiple of inputSize {inputSize}.", nameof(inputs));
        }

        int count = inputs.Length / inputSize;
        Guard.Length(targets.Length, count * targetSize, $"{count} samples x targetSize {targetSize}");
        _inputs = inputs;
        _targets = targets;
        _labels = labels;
        InputSize = inputSize;
        TargetSize = targetSize;
        Count = count;
    }

    private Dataset(Dataset parent, int start, int count)
    {
        _inputs = parent._inputs;
        _targets = parent._targets;
        _labels = parent._labels;
        InputSize = parent.InputSize;
        TargetSize = parent.TargetSize;
        _start = parent._start + start;
        Count = count;
    }

    /// <summary>
    /// Creates a classification data set: <paramref name="inputs"/> (not copied) with one-hot targets built from
    /// <paramref name="labels"/>, as mnist_loader.py's <c>vectorized_result</c> does.
    /// </summary>
    /// <exception cref="ArgumentException">The counts disagree or a label is outside [0, <paramref name="classCount"/>).</exception>
    public static Dataset FromLabels(float[] inputs, int inputSize, ReadOnlySpan<byte> labels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Guard.Positive(inputSize);
        Guard.Positive(classCount);
        Guard.Length(inputs.Length, labels.Length * inputSize, $"{labels.Length} labels x inputSize {inputSize}");
        var targets = new float[labels.Length * classCount];
        var classes = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= classCount)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{i}] is {labels[i]}, expected a class from 0 to {classCount - 1}.");
            }

            classes[i] = labels[i];
            targets[(i * classCount) + labels[i]] = 1f;
        }

        return new Dataset(inputs, inputSize, targets, classCount, classes);
    }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Floats per input.</summary>
    public int InputSize { get; }

    /// <summary>Floats per target (the number of classes for one-hot targets).</summary>
    public int TargetSize { get; }

    /// <summary>Input <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Input(int index) => new(_inputs, checked((_start + CheckIndex(index)) * InputSize), InputSize);

    /// <summary>Target <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Target(int index) => new(_targets, checked((_start + CheckIndex(index)) * TargetSize), TargetSize);

    /// <summary>Inputs <c>[start, start + count)</c> as one contiguous row-major block (no copy); the range is the caller's to check.</summary>
    internal ReadOnlySpan<float> InputRows(int start, int count) => new(_inputs, (_start + start) * InputSize, count * InputSize);

    /// <summary>Every input, row-major (no copy), where worker threads can read them.</summary>
    internal ReadOnlyMemory<float> Inputs => new(_inputs, _start * InputSize, Count * InputSize);

    /// <summary>Label (class) of sample <paramref name="index"/>.</summary>
    public int Label(int index) => _labels[_start + CheckIndex(index)];

    /// <summary>A view of <paramref name="count"/> samples from <paramref name="start"/> on, sharing this set's buffers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the set.</exception>
    public Dataset Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start > Count - count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"Slice({start}, {count}) is outside a data set of {Count} samples.");
        }

        return new Dataset(this, start, count);
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"index is {index}, expected 0 to {Count - 1}.");
        }

        return index;
    }

    private static int[] LabelsFromTargets(float[] targets, int targetSize)
    {
        ArgumentNullException.ThrowIfNull(targets);
        Guard.Positive(targetSize);
        var labels = new int[targets.Length / targetSize];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = Network.ArgMax(targets.AsSpan(i * targetSize, targetSize));
        }

        return labels;
    }
}
