namespace Backprop.Simd;

/// <summary>
/// The preallocated buffers one thread needs to run a <see cref="QuantizedNetwork"/> of a given shape on one sample:
/// each layer's input codes (bytes), int32 sums, weighted inputs and activations, and a float row for reading a data
/// set's inputs. Sized once; nothing is allocated afterwards.
/// </summary>
/// <remarks>Not thread-safe: give each thread its own (networks can be shared). As with <see cref="Workspace"/>, a call
/// claims the workspace for its duration, so a second thread using it at the same time gets an
/// <see cref="InvalidOperationException"/>, and a span a call returns is valid only until the next call on it.</remarks>
public sealed class QuantizedWorkspace
{
    private readonly byte[] _codes;   // per layer l, Stride(l) codes of its input
    private readonly int[] _codeOffsets;
    private readonly int[] _sums;     // per layer l, PaddedRows(l) sums (the kernel writes whole groups of 8)
    private readonly int[] _sumOffsets;
    private readonly int[] _quadList; // the nonzero quads of the layer being computed
    private readonly float[] _zs;
    private readonly float[] _activations; // per layer l, n_l values then zeros up to a multiple of RowAlign
    private readonly int[] _activationOffsets;
    private readonly float[] _row;    // one input row, for byte data sets
    private readonly ActivationScale[] _scales; // per layer, the input scale of the last computation
    private readonly float[] _blockZs;          // per layer l, BlockSamples rows of n_l weighted inputs (the batch path)
    private readonly float[] _blockActivations; // per layer l, BlockSamples rows of n_l activations, unpadded
    private readonly bool[] _failed;            // per sample of the block, whether a layer's input held a NaN or infinity
    private readonly float[] _blockInputs;      // per layer l >= 2, BlockSamples rows of Stride(l): n_{l-1} activations, then zeros never written
    private readonly int[] _blockInputOffsets;
    private readonly byte[] _blockCodes;        // BlockSamples rows of the largest Stride(l), l >= 2: the codes of the layer being computed
    private readonly int[] _blockSums;          // BlockSamples rows of the largest PaddedRows(l), l >= 2
    private readonly ActivationScale[] _blockScales; // per sample of the block, the scale (dynamic or calibrated) of the layer being computed
    private int _inUse;

    /// <summary>Allocates the buffers for networks shaped like <paramref name="network"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The buffers would exceed the memory available to the process, or one array.</exception>
    public QuantizedWorkspace(QuantizedNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        Layout = network.Layout;
        _codeOffsets = new int[Layout.OutputLayer + 1];
        long codes = 0;
        for (int l = 1; l <= Layout.OutputLayer; l++)
        {
            _codeOffsets[l] = (int)codes;
            codes += network.Stride(l);
        }

        _sumOffsets = new int[Layout.OutputLayer + 2];
        int quads = 0;
        for (int l = 1; l <= Layout.OutputLayer; l++)
        {
            _sumOffsets[l + 1] = _sumOffsets[l] + network.PaddedRows(l);
            quads = Math.Max(quads, (network.Quads(l) + 7) & ~7);
        }

        long blockFloats = (long)Layout.NeuronCount * QuantizedNetwork.BlockSamples;
        _blockInputOffsets = new int[Layout.OutputLayer + 2];
        long blockInputs = 0;
        int widestCodes = 0, widestSums = 0;
        for (int l = 2; l <= Layout.OutputLayer; l++)
        {
            _blockInputOffsets[l] = (int)Math.Min(blockInputs, int.MaxValue);
            blockInputs += (long)network.Stride(l) * QuantizedNetwork.BlockSamples;
            widestCodes = Math.Max(widestCodes, network.Stride(l));
            widestSums = Math.Max(widestSums, network.PaddedRows(l));
        }

        long blockExtra = (blockInputs * 4) + ((long)widestCodes * QuantizedNetwork.BlockSamples * 5) + ((long)widestSums * QuantizedNetwork.BlockSamples * 4);
        MemoryBudget.Check(codes + ((long)Layout.NeuronCount * 20) + ((long)network.InputSize * 8) + (blockFloats * 8) + blockExtra, nameof(network), $"a quantized workspace for {Layout.Describe()}");
        long blockSums = (long)widestSums * QuantizedNetwork.BlockSamples;
        if (blockInputs > Array.MaxLength || blockSums > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(network), Math.Max(blockInputs, blockSums), $"a quantized workspace for {Layout.Describe()} needs {blockInputs:N0} floats of block inputs and {blockSums:N0} block sums, more than one array can hold ({Array.MaxLength:N0}).");
        }

        _blockInputOffsets[Layout.OutputLayer + 1] = (int)blockInputs;
        _codes = new byte[codes];
        _sums = new int[_sumOffsets[^1]];
        _quadList = new int[quads];
        _zs = new float[Layout.NeuronCount];
        _activationOffsets = new int[Layout.OutputLayer + 2];
        for (int l = 1; l <= Layout.OutputLayer; l++)
        {
            _activationOffsets[l + 1] = _activationOffsets[l] + Padded(Layout.Sizes[l]);
        }

        _activations = new float[_activationOffsets[^1]];
        _row = new float[network.InputSize];
        _scales = new ActivationScale[Layout.OutputLayer + 1];
        _blockZs = new float[blockFloats];
        _blockActivations = new float[blockFloats];
        _failed = new bool[QuantizedNetwork.BlockSamples];
        _blockInputs = new float[blockInputs];
        _blockCodes = new byte[widestCodes * QuantizedNetwork.BlockSamples];
        _blockSums = new int[blockSums];
        _blockScales = new ActivationScale[QuantizedNetwork.BlockSamples];
    }

    internal Layout Layout { get; }

    /// <summary>Neurons per layer of the networks this workspace serves, input first.</summary>
    public ReadOnlySpan<int> Sizes => Layout.Sizes;

    /// <summary>Claims the workspace for one computation; dispose the result to release it.</summary>
    internal Lease Use()
    {
        if (Interlocked.CompareExchange(ref _inUse, 1, 0) != 0)
        {
            throw new InvalidOperationException(
                "workspace is in use by another call, most likely on another thread: a QuantizedWorkspace serves one thread at a time, so give each thread its own (networks can be shared).");
        }

        return new Lease(this);
    }

    /// <summary>A claim on a workspace for the duration of one call.</summary>
    internal readonly ref struct Lease(QuantizedWorkspace workspace)
    {
        public void Dispose() => Volatile.Write(ref workspace._inUse, 0);
    }

    internal Span<byte> Codes(int l) => new(_codes, _codeOffsets[l], (l < Layout.OutputLayer ? _codeOffsets[l + 1] : _codes.Length) - _codeOffsets[l]);

    internal Span<int> Sums(int l) => new(_sums, _sumOffsets[l], _sumOffsets[l + 1] - _sumOffsets[l]);

    /// <summary>Room for one layer's list of nonzero quads, rounded up to 8.</summary>
    internal Span<int> QuadList => _quadList;

    internal Span<float> ZRows(int l) => new(_zs, Layout.NeuronOffset(l), Layout.Sizes[l]);

    internal Span<float> ARows(int l) => new(_activations, _activationOffsets[l], Layout.Sizes[l]);

    /// <summary>Layer l's activations with the zeros after them, <see cref="QuantizedNetwork.Stride"/>(l + 1) long: the
    /// zeros widen the range by nothing (it always holds 0) and meet zero weights, so the kernels can run whole vectors.</summary>
    internal ReadOnlySpan<float> PaddedARows(int l) => new(_activations, _activationOffsets[l], Padded(Layout.Sizes[l]));

    /// <summary><see cref="PaddedARows"/> to write layer l's activations into: the element-wise functions write only
    /// the first n_l floats; a softmax (only ever the output layer, never read as an input) may use the rest.</summary>
    internal Span<float> PaddedARowsForWriting(int l) => new(_activations, _activationOffsets[l], Padded(Layout.Sizes[l]));

    private static int Padded(int n) => (n + QuantizedNetwork.RowAlign - 1) / QuantizedNetwork.RowAlign * QuantizedNetwork.RowAlign;

    internal Span<float> Row => _row;

    /// <summary>Layer l's weighted inputs for a block of samples, <see cref="QuantizedNetwork.BlockSamples"/> rows of n_l.</summary>
    internal Span<float> BlockZRows(int l) => new(_blockZs, Layout.NeuronOffset(l) * QuantizedNetwork.BlockSamples, Layout.Sizes[l] * QuantizedNetwork.BlockSamples);

    /// <summary>Layer l's activations for a block of samples, rows of n_l with no padding between them.</summary>
    internal Span<float> BlockARows(int l) => new(_blockActivations, Layout.NeuronOffset(l) * QuantizedNetwork.BlockSamples, Layout.Sizes[l] * QuantizedNetwork.BlockSamples);

    /// <summary>Per sample of the block, whether one of its layers had a NaN or infinite input (its outputs are then NaN).</summary>
    internal Span<bool> Failed => _failed;

    /// <summary>Layer l's (l &gt;= 2) inputs for a block of samples: <see cref="QuantizedNetwork.BlockSamples"/> rows of
    /// <see cref="QuantizedNetwork.Stride"/>(l) floats, n_{l-1} activations and then zeros (never written), as <see cref="PaddedARows"/>.</summary>
    internal Span<float> BlockInputRows(int l) => new(_blockInputs, _blockInputOffsets[l], _blockInputOffsets[l + 1] - _blockInputOffsets[l]);

    /// <summary>Codes of a later layer's block, rows of that layer's <see cref="QuantizedNetwork.Stride"/>.</summary>
    internal Span<byte> BlockCodes => _blockCodes;

    /// <summary>Sums of a later layer's block, rows of that layer's <see cref="QuantizedNetwork.PaddedRows"/>.</summary>
    internal Span<int> BlockSums => _blockSums;

    /// <summary>Per sample of the block, the dynamic input scale of the later layer being computed.</summary>
    internal Span<ActivationScale> BlockScales => _blockScales;

    /// <summary>The scale layer l's input was quantized with in the last computation.</summary>
    internal ActivationScale InputScale(int l) => _scales[l];

    internal void RecordScale(int l, ActivationScale scale) => _scales[l] = scale;
}
