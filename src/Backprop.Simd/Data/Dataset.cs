using Backprop.Simd.Kernels;

namespace Backprop.Simd.Data;

/// <summary>
/// A labelled data set held as contiguous buffers, never an array per sample: <see cref="Count"/> inputs of
/// <see cref="InputSize"/> values back to back, the same number of targets of <see cref="TargetSize"/> floats,
/// and one integer label per sample (the class whose output should be largest).
/// </summary>
/// <remarks>
/// The inputs are stored in one of two forms. As floats (the constructor, <see cref="FromLabels(float[], int, ReadOnlySpan{byte}, int)"/>),
/// read in place (the trainer copies each mini-batch's rows into a block of its own while three mini-batches of them take
/// at most 16 MB). Or as bytes with a divisor (<see cref="FromLabels(byte[], int, float, ReadOnlySpan{byte}, int)"/>,
/// what <see cref="MnistData"/> loads): input value <c>j</c> of a sample is its byte <c>j</c> divided by the divisor in
/// float arithmetic, e.g. <c>b / 255f</c> for pixels scaled to [0, 1]. Bytes take a quarter of the memory; the trainer
/// and <see cref="Runtime.BatchInference"/> widen each mini-batch or block of samples to floats as they go, giving the
/// same floats, so training and evaluation give the same results in either form. Read inputs of either form with
/// <see cref="Input(int, Span{float})"/>; <see cref="Input(int)"/> reads a float set in place but must allocate a
/// copy for a byte set (see <see cref="HoldsBytes"/>).
/// </remarks>
public sealed class Dataset
{
    private readonly float[]? _inputs; // the float form
    private readonly byte[]? _bytes;   // the byte form, each value _bytes[k] / _divisor
    private readonly float _divisor;
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
        : this(inputs, null, 0f, CheckedLength(inputs, inputSize), inputSize, targets, targetSize, labels)
    {
    }

    private Dataset(float[]? inputs, byte[]? bytes, float divisor, int length, int inputSize, float[] targets, int targetSize, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(targets);
        Guard.Positive(targetSize);
        if (length % inputSize != 0)
        {
            throw new ArgumentException($"inputs has length {length}, expected a multiple of inputSize {inputSize}.", nameof(inputs));
        }

        int count = length / inputSize;
        Guard.Length(targets.Length, count * targetSize, $"{count} samples x targetSize {targetSize}");
        _inputs = inputs;
        _bytes = bytes;
        _divisor = divisor;
        _targets = targets;
        _labels = labels;
        InputSize = inputSize;
        TargetSize = targetSize;
        Count = count;
    }

    private Dataset(Dataset parent, int start, int count)
    {
        _inputs = parent._inputs;
        _bytes = parent._bytes;
        _divisor = parent._divisor;
        _targets = parent._targets;
        _labels = parent._labels;
        TargetsAreOneHot = parent.TargetsAreOneHot;
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
        (float[] targets, int[] classes) = OneHot(labels, classCount);
        return new Dataset(inputs, null, 0f, inputs.Length, inputSize, targets, classCount, classes) { TargetsAreOneHot = true };
    }

    /// <summary>
    /// Creates a classification data set whose inputs are held as bytes (not copied), a quarter of the memory of
    /// floats: input value <c>j</c> of sample <c>i</c> is <c>inputs[i * inputSize + j] / divisor</c>, computed in float
    /// (255 gives pixels in [0, 1], exactly the floats of <see cref="IdxReader.ReadImages(string)"/>). Targets are
    /// one-hot from <paramref name="labels"/>, as in <see cref="FromLabels(float[], int, ReadOnlySpan{byte}, int)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The counts disagree, a label is outside [0, <paramref name="classCount"/>),
    /// or <paramref name="divisor"/> is not a finite number above 0.</exception>
    public static Dataset FromLabels(byte[] inputs, int inputSize, float divisor, ReadOnlySpan<byte> labels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Guard.Positive(inputSize);
        Guard.Positive(classCount);
        if (!float.IsFinite(divisor) || divisor <= 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(divisor), divisor, $"divisor must be a finite number above 0, but was {divisor}.");
        }

        Guard.Length(inputs.Length, labels.Length * inputSize, $"{labels.Length} labels x inputSize {inputSize}");
        (float[] targets, int[] classes) = OneHot(labels, classCount);
        return new Dataset(null, inputs, divisor, inputs.Length, inputSize, targets, classCount, classes) { TargetsAreOneHot = true };
    }

    /// <summary>Whether every target is the one-hot vector of the sample's label (<see cref="FromLabels(float[], int, ReadOnlySpan{byte}, int)"/>
    /// and its byte form), so that a target can be written from <see cref="Label"/> instead of read.</summary>
    internal bool TargetsAreOneHot { get; private init; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Values per input.</summary>
    public int InputSize { get; }

    /// <summary>Floats per target (the number of classes for one-hot targets).</summary>
    public int TargetSize { get; }

    /// <summary>Whether the inputs are held as bytes with a divisor (see the remarks): then <see cref="Input(int)"/>
    /// allocates, and <see cref="Input(int, Span{float})"/> is the way to read them without allocating.</summary>
    public bool HoldsBytes => _bytes is not null;

    /// <summary>
    /// Input <paramref name="index"/>: of a float set the stored floats themselves (no copy); of a byte set
    /// (<see cref="HoldsBytes"/>) a new array of them widened to floats, so that in a loop
    /// <see cref="Input(int, Span{float})"/> with one buffer is the allocation-free way.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside 0 to <see cref="Count"/> - 1.</exception>
    public ReadOnlySpan<float> Input(int index)
    {
        int offset = checked((_start + CheckIndex(index)) * InputSize);
        if (_inputs is not null)
        {
            return new(_inputs, offset, InputSize);
        }

        var values = new float[InputSize];
        Widening.Divide(_bytes.AsSpan(offset, InputSize), _divisor, values);
        return values;
    }

    /// <summary>Writes input <paramref name="index"/> as floats into the first <see cref="InputSize"/> elements of
    /// <paramref name="destination"/> and returns them; works on either form and allocates nothing.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside 0 to <see cref="Count"/> - 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="InputSize"/>.</exception>
    public Span<float> Input(int index, Span<float> destination)
    {
        int offset = checked((_start + CheckIndex(index)) * InputSize);
        if (destination.Length < InputSize)
        {
            throw new ArgumentException($"destination has length {destination.Length}, expected at least {InputSize} (InputSize).", nameof(destination));
        }

        Span<float> row = destination[..InputSize];
        if (_inputs is not null)
        {
            _inputs.AsSpan(offset, InputSize).CopyTo(row);
        }
        else
        {
            Widening.Divide(_bytes.AsSpan(offset, InputSize), _divisor, row);
        }

        return row;
    }

    /// <summary>Target <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Target(int index) => new(_targets, checked((_start + CheckIndex(index)) * TargetSize), TargetSize);

    /// <summary>Inputs <c>[start, start + count)</c> of a float set as one contiguous row-major block (no copy); the range is the caller's to check.</summary>
    internal ReadOnlySpan<float> InputRows(int start, int count) => new(FloatInputs(), (_start + start) * InputSize, count * InputSize);

    /// <summary>Every input of a float set, row-major (no copy), where worker threads can read them.</summary>
    internal ReadOnlyMemory<float> Inputs => new(FloatInputs(), _start * InputSize, Count * InputSize);

    /// <summary>Every input of a byte set, row-major (no copy); each value is a byte over <see cref="Divisor"/>.</summary>
    internal ReadOnlySpan<byte> ByteInputs => new(_bytes ?? throw NotBytes(), _start * InputSize, Count * InputSize);

    /// <summary>What a byte set's bytes are divided by; 0 for a float set.</summary>
    internal float Divisor => _divisor;

    /// <summary>Inputs <c>[start, start + count)</c> of either form as floats into <paramref name="destination"/>
    /// (<c>count x InputSize</c>); the range is the caller's to check.</summary>
    internal void CopyRows(int start, int count, Span<float> destination)
    {
        if (_bytes is not null)
        {
            Widening.Divide(_bytes.AsSpan((_start + start) * InputSize, count * InputSize), _divisor, destination[..(count * InputSize)]);
        }
        else
        {
            InputRows(start, count).CopyTo(destination);
        }
    }

    /// <summary>Inputs <paramref name="rows"/> (indices into this set) of either form as floats, one after another, into
    /// <paramref name="destination"/> (<c>rows.Length x InputSize</c>); the indices are the caller's to check.</summary>
    internal void GatherRows(ReadOnlySpan<int> rows, Span<float> destination)
    {
        if (_bytes is not null)
        {
            Widening.GatherRows(ByteInputs, rows, InputSize, _divisor, destination);
            return;
        }

        ReadOnlySpan<float> inputs = Inputs.Span;
        for (int i = 0; i < rows.Length; i++)
        {
            inputs.Slice(rows[i] * InputSize, InputSize).CopyTo(destination.Slice(i * InputSize, InputSize));
        }
    }

    /// <summary>Starts fetching inputs <paramref name="rows"/> of either form into the second-level cache; the indices
    /// are the caller's to check.</summary>
    internal void PrefetchRows(ReadOnlySpan<int> rows)
    {
        if (_bytes is not null)
        {
            Widening.PrefetchRows(ByteInputs, rows, InputSize);
        }
        else
        {
            Prefetch.Rows(Inputs.Span, rows, InputSize);
        }
    }

    /// <summary>Every sample's label, in order.</summary>
    internal ReadOnlySpan<int> Labels => new(_labels, _start, Count);

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

    private float[] FloatInputs() => _inputs ?? throw new InvalidOperationException("This data set holds its inputs as bytes; read them with Input(index, destination).");

    private static InvalidOperationException NotBytes() => new("This data set holds its inputs as floats, not bytes.");

    private static int CheckedLength(float[] inputs, int inputSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Guard.Positive(inputSize);
        return inputs.Length;
    }

    // One-hot targets and the labels as classes; every label must be below classCount.
    private static (float[] Targets, int[] Classes) OneHot(ReadOnlySpan<byte> labels, int classCount)
    {
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

        return (targets, classes);
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
