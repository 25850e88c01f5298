using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Simd.Data;
using Backprop.Simd.Kernels;
using Backprop.Simd.Serialization;

namespace Backprop.Simd;

/// <summary>
/// An int8 copy of a trained <see cref="Network"/> for inference: each weight row <c>j</c> of layer <c>l</c> stored as
/// int8 codes <c>q = round(w / s_j)</c> in [-127, 127] with the symmetric scale <c>s_j = max_k |w_jk| / 127</c>; each
/// layer's input quantized to 7-bit codes, with a zero point when it has negative values, over its own range per sample
/// (dynamic, <see cref="From(Network)"/>) or over a range fixed from calibration data (<see cref="From(Network, Dataset)"/>); the products summed exactly in int32, dequantized with the two scales, and then the float network's
/// own biases and activation functions applied. A quarter of the weights' bytes, and about twice the multiply-adds per
/// instruction. Like <see cref="Network"/> it is immutable once made and can be shared by many threads, each with its
/// own <see cref="QuantizedWorkspace"/>; no call allocates.
/// </summary>
/// <remarks>
/// The outputs differ from the float network's by at most a bound that follows from the scales (docs/quantization.md):
/// per layer, <c>|dz_j| &lt;= (s_j / 2) sum_k |a_k| + (s_a / 2) sum_k |s_j q_jk|</c> plus what earlier layers passed on,
/// plus, with calibrated scales, <c>sum_k |s_j q_jk| x_k</c> for inputs a distance <c>x_k</c> beyond the calibrated range.
/// An input or hidden activation that is NaN or infinite makes every output NaN, as it would in the float network.
/// </remarks>
public sealed class QuantizedNetwork
{
    /// <summary>Each layer's input codes (and hidden activations) are padded to a multiple of this, so that the
    /// quantization and the quad listing run whole 32-byte vectors (the padding's weights are zero).</summary>
    internal const int RowAlign = 32;

    /// <summary>The most inputs a layer may have: then <c>sum_k q_k u_k - zeroPoint sum_k q_k</c>, at most
    /// <c>2 x 127^2</c> per input in size, fits an int32.</summary>
    internal const int MaxInputs = int.MaxValue / (2 * 127 * 127);

    private readonly sbyte[] _weights;     // per layer l, quad-major (Int8MatrixVector): Quads(l) blocks of PaddedRows(l) x 4 codes
    private readonly float[] _scales;      // s_j per neuron of layers 1..L (at the layout's neuron offsets)
    private readonly int[] _rowSums;       // sum_k q_jk per neuron, to subtract the input's zero point
    private readonly float[] _biases;      // b_j per neuron, the float network's
    private readonly int[] _weightOffsets; // per layer, [0] unused
    private readonly Activation[] _activations;
    private ActivationScale[]? _inputScales; // per layer l (index l, [0] unused) when calibrated; null for dynamic scales

    private QuantizedNetwork(Layout layout, CostFunction cost, Activation[] activations, string paramName)
    {
        Layout = layout;
        Cost = cost;
        _activations = activations;
        int layers = Layout.OutputLayer;
        _weightOffsets = new int[layers + 1];
        long bytes = 0;
        for (int l = 1; l <= layers; l++)
        {
            if (Layout.Sizes[l - 1] > MaxInputs)
            {
                throw new ArgumentException(
                    $"network has {Layout.Sizes[l - 1]:N0} inputs into layer {l}, more than the {MaxInputs:N0} whose int8 products, less the zero point's, an int32 holds exactly.", paramName);
            }

            _weightOffsets[l] = (int)Math.Min(bytes, int.MaxValue);
            bytes += (long)Quads(l) * PaddedRows(l) * 4;
        }

        if (bytes > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(paramName, bytes, $"network's int8 weights, padded to 8 rows, need {bytes:N0} bytes, more than one array can hold ({Array.MaxLength:N0}).");
        }

        MemoryBudget.Check(bytes + ((long)Layout.NeuronCount * 12), paramName, $"the int8 copy of {Layout.Describe()}");
        _weights = new sbyte[bytes];
        _scales = new float[Layout.NeuronCount];
        _rowSums = new int[Layout.NeuronCount];
        _biases = new float[Layout.NeuronCount];
    }

    /// <summary>Quantizes a trained network: its weights to int8 with one scale per output row, its biases, activations and cost kept.</summary>
    /// <param name="network">The float network; it is only read, and later changes to it do not reach the copy.</param>
    /// <exception cref="ArgumentException">A weight or bias is NaN or infinite, or a layer has more inputs than
    /// <c>int.MaxValue / (2 x 127^2)</c> (66,572), beyond which a sum less its zero point's share could overflow an int32.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The int8 weights would exceed one array or the memory available.</exception>
    public static QuantizedNetwork From(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var quantized = new QuantizedNetwork(network.Layout, network.Cost, network.Activations.ToArray(), nameof(network));
        for (int l = 1; l <= quantized.OutputLayer; l++)
        {
            quantized.QuantizeLayer(network, l);
        }

        return quantized;
    }

    /// <summary>
    /// Quantizes a trained network as <see cref="From(Network)"/> does, and fixes each layer's input scale from the float
    /// network's values on <paramref name="calibration"/>: layer l's codes cover <c>[min(a, 0), max(a, 0)]</c> of every
    /// input to it over all the samples (the smallest and largest value seen, not a percentile: no calibration input is
    /// clipped at layer 1; a later layer's int8 input differs from the float one by the earlier layers' quantization
    /// error, so it may saturate by up to that much). Calls then skip the pass that finds each input's
    /// range; a value beyond the calibrated range saturates to the nearest end (code 0 or 127), never wraps.
    /// </summary>
    /// <param name="network">The float network; it is only read.</param>
    /// <param name="calibration">Samples like those the network will see (its training set, say); only the inputs are read.</param>
    /// <exception cref="ArgumentException">As for <see cref="From(Network)"/>; or <paramref name="calibration"/> is empty,
    /// has inputs of another size, or gives a NaN or infinite value or only zeros (no range) at some layer's input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The int8 weights would exceed one array or the memory available.</exception>
    public static QuantizedNetwork From(Network network, Dataset calibration)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(calibration);
        if (calibration.InputSize != network.InputSize || calibration.Count == 0)
        {
            throw new ArgumentException(
                $"calibration has {calibration.Count} samples of {calibration.InputSize} inputs, expected at least 1 sample of {network.InputSize} (the network's input size).", nameof(calibration));
        }

        QuantizedNetwork quantized = From(network);
        quantized._inputScales = Calibrate(network, calibration);
        return quantized;
    }

    /// <summary>Each layer's input range over the samples, through the float network, as fixed scales.</summary>
    private static ActivationScale[] Calibrate(Network network, Dataset calibration)
    {
        int layers = network.OutputLayer;
        var low = new float[layers + 1];
        var high = new float[layers + 1];
        var workspace = new Workspace(network);
        var row = new float[network.InputSize];
        for (int i = 0; i < calibration.Count; i++)
        {
            ReadOnlySpan<float> x = calibration.Input(i, row);
            Widen(x, 1, i);
            network.FeedForward(x, workspace);
            for (int l = 1; l < layers; l++)
            {
                Widen(workspace.A(l), l + 1, i);
            }
        }

        var scales = new ActivationScale[layers + 1];
        for (int l = 1; l <= layers; l++)
        {
            scales[l] = ActivationScale.FromRange(low[l], high[l]) ?? throw new ArgumentException(
                $"calibration gives layer {l}'s inputs the range [{low[l]}, {high[l]}], too narrow for a scale; calibrate on other samples, or quantize with dynamic scales.", nameof(calibration));
        }

        return scales;

        void Widen(ReadOnlySpan<float> a, int l, int sample)
        {
            if (!Int8Quantize.Range(a, out float min, out float max))
            {
                throw new ArgumentException($"calibration sample {sample} gives layer {l} a NaN or infinite input; only finite values can be calibrated on.", nameof(calibration));
            }

            low[l] = Math.Min(low[l], min);
            high[l] = Math.Max(high[l], max);
        }
    }

    /// <summary>An empty network of this shape for a reader to fill (<see cref="SetLayer"/>); the checks of
    /// <see cref="From(Network)"/> on sizes and memory, naming <paramref name="paramName"/>.</summary>
    internal static QuantizedNetwork Empty(Layout layout, CostFunction cost, Activation[] activations, string paramName) =>
        new(layout, cost, activations, paramName);

    /// <summary>
    /// Saves this int8 network (codes, row scales, biases, sizes, activations and cost) to <paramref name="path"/>, so
    /// that an app can load it without the float model; JSON like the float model files, with <c>"format":
    /// "backprop-int8"</c> (docs/quantization.md). Atomic, as <see cref="ModelJson.Save(Network, string)"/>: a failure
    /// never leaves a half-written file, and an existing file is replaced whole or kept.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory.</exception>
    /// <exception cref="IOException">The file could not be written or renamed, or <paramref name="path"/> is not a regular file.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        QuantizedModelJson.Save(this, path);
    }

    /// <summary>Loads an int8 model file written by <see cref="Save"/>; the network computes exactly what the saved one did.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is not a regular file, or reading failed.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid int8 model (a float model file included) or is
    /// larger than <see cref="ModelJson.MaxFileBytes"/>; the message names <paramref name="path"/>, the JSON path of the problem and what was expected.</exception>
    public static QuantizedNetwork Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return QuantizedModelJson.Load(path);
    }

    internal Layout Layout { get; }

    /// <summary>Neurons per layer, input first, as in the float network.</summary>
    public ReadOnlySpan<int> Sizes => Layout.Sizes;

    /// <summary>L, the index of the output layer; also the number of weight layers.</summary>
    public int OutputLayer => Layout.OutputLayer;

    /// <summary>Length of an input vector, <c>n_0</c>.</summary>
    public int InputSize => Layout.Sizes[0];

    /// <summary>Length of an output vector, <c>n_L</c>.</summary>
    public int OutputSize => Layout.Sizes[^1];

    /// <summary>The cost the float network was trained on (kept so that the copy describes the same model).</summary>
    public CostFunction Cost { get; }

    /// <summary>The activation <c>f_l</c> of layer <paramref name="layer"/>, 1..<see cref="OutputLayer"/>.</summary>
    public Activation ActivationOf(int layer)
    {
        Layout.CheckLayer(layer);
        return _activations[layer - 1];
    }

    /// <summary>Whether each layer's input scale is fixed from calibration data (<see cref="From(Network, Dataset)"/>)
    /// rather than chosen per sample from the input's own range.</summary>
    public bool IsCalibrated => _inputScales is not null;

    /// <summary>Layer l's fixed input scale, or null when the scales are dynamic.</summary>
    internal ActivationScale? InputScaleOf(int l) => _inputScales?[l];

    /// <summary>Fixes the input scales (index l for layer l, [0] unused), as a reader found them (already checked).</summary>
    internal void SetInputScales(ActivationScale[] scales) => _inputScales = scales;

    /// <summary>Bytes of the int8 weights, padding to whole quads of inputs and groups of 8 rows included (a float
    /// network's weights take about four times as many).</summary>
    public int WeightBytes => _weights.Length;

    /// <summary>The output activation <c>a^L</c> for input <paramref name="x"/>, through the int8 layers. Allocates nothing.</summary>
    /// <param name="x">Input, length <see cref="InputSize"/>.</param>
    /// <param name="workspace">This thread's workspace; the result lives in it until its next use.</param>
    /// <returns>A view into <paramref name="workspace"/>, valid only until the next call on it: copy it before then.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> has the wrong length or the workspace belongs to another shape.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public ReadOnlySpan<float> FeedForward(ReadOnlySpan<float> x, QuantizedWorkspace workspace)
    {
        CheckWorkspace(workspace);
        Guard.Length(x.Length, InputSize, "the network's input size");
        using (workspace.Use())
        {
            return FeedForwardOne(x, workspace);
        }
    }

    /// <summary>The index of the largest output for input <paramref name="x"/>: the predicted class.</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> has the wrong length or the workspace belongs to another shape.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public int Predict(ReadOnlySpan<float> x, QuantizedWorkspace workspace)
    {
        CheckWorkspace(workspace);
        Guard.Length(x.Length, InputSize, "the network's input size");
        using (workspace.Use())
        {
            return Network.ArgMax(FeedForwardOne(x, workspace));
        }
    }

    /// <summary>Counts the samples of <paramref name="data"/> whose output's argmax equals their label, one at a time on
    /// the calling thread. Allocates nothing. For many samples on several threads, use <see cref="Runtime.QuantizedBatchInference"/>.</summary>
    /// <exception cref="ArgumentException">The data's or the workspace's shape does not match the network.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using <paramref name="workspace"/> at the same time.</exception>
    public int Evaluate(Dataset data, QuantizedWorkspace workspace)
    {
        CheckData(data);
        CheckWorkspace(workspace);
        using (workspace.Use())
        {
            Span<float> row = workspace.Row;
            int correct = 0;
            for (int i = 0; i < data.Count; i++)
            {
                if (Network.ArgMax(FeedForwardOne(data.Input(i, row), workspace)) == data.Label(i))
                {
                    correct++;
                }
            }

            return correct;
        }
    }

    /// <summary>Layer l's weight codes, quad-major as <see cref="Int8MatrixVector"/> reads them (padding zero).</summary>
    internal ReadOnlySpan<sbyte> WeightsOf(int l) => new(_weights, _weightOffsets[l], Quads(l) * PaddedRows(l) * 4);

    /// <summary>The code of <c>W^l[j, k]</c>.</summary>
    internal sbyte Code(int l, int j, int k) => _weights[CodeIndex(l, j, k)];

    // W^l[j, k]'s place in the quad-major layout: quad k / 4, row j, lane k % 4.
    private int CodeIndex(int l, int j, int k) => _weightOffsets[l] + ((((k >> 2) * PaddedRows(l)) + j) * 4) + (k & 3);

    /// <summary>Layer l's codes row-major, <c>n_l x n_{l-1}</c> (a copy, for writers and tests).</summary>
    internal sbyte[] RowCodes(int l)
    {
        int rows = Layout.Sizes[l], cols = Layout.Sizes[l - 1];
        var codes = new sbyte[rows * cols];
        for (int j = 0; j < rows; j++)
        {
            for (int k = 0; k < cols; k++)
            {
                codes[(j * cols) + k] = Code(l, j, k);
            }
        }

        return codes;
    }

    /// <summary>Quads of inputs into layer l: <c>n_{l-1} / 4</c> rounded up.</summary>
    internal int Quads(int l) => Int8MatrixVector.Quads(Layout.Sizes[l - 1]);

    /// <summary>Layer l's rows rounded up to 8.</summary>
    internal int PaddedRows(int l) => Int8MatrixVector.PaddedRows(Layout.Sizes[l]);

    /// <summary>The sums <c>sum_k q_jk</c> of layer l's rows.</summary>
    internal ReadOnlySpan<int> RowSumsOf(int l) => new(_rowSums, Layout.NeuronOffset(l), Layout.Sizes[l]);

    /// <summary>The row scales <c>s_j</c> of layer l.</summary>
    internal ReadOnlySpan<float> ScalesOf(int l) => new(_scales, Layout.NeuronOffset(l), Layout.Sizes[l]);

    internal ReadOnlySpan<float> BiasesOf(int l) => new(_biases, Layout.NeuronOffset(l), Layout.Sizes[l]);

    internal ReadOnlySpan<Activation> Activations => _activations;

    /// <summary>Input codes of layer l: its inputs, rounded up to <see cref="RowAlign"/>.</summary>
    internal int Stride(int l) => (Layout.Sizes[l - 1] + RowAlign - 1) / RowAlign * RowAlign;

    internal void CheckWorkspace(QuantizedWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (!Layout.SameShape(workspace.Layout))
        {
            throw new ArgumentException($"workspace has sizes {workspace.Layout.Describe()}, expected {Layout.Describe()}.", nameof(workspace));
        }
    }

    internal void CheckData(Dataset data, string paramName = "data")
    {
        ArgumentNullException.ThrowIfNull(data, paramName);
        if (data.InputSize != InputSize || data.TargetSize != OutputSize)
        {
            throw new ArgumentException(
                $"{paramName} has inputs of {data.InputSize} and targets of {data.TargetSize}, expected {InputSize} and {OutputSize} (the network's input and output sizes).", paramName);
        }
    }

    /// <summary>Samples the batch path takes through the later layers together (<see cref="FinishBlock"/>): one
    /// activation call per layer for all of them, and the outputs written in place.</summary>
    internal const int BlockSamples = 32;

    /// <summary>The forward pass in an already claimed workspace: quantize, multiply, dequantize, activate, layer by layer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal ReadOnlySpan<float> FeedForwardOne(ReadOnlySpan<float> x, QuantizedWorkspace ws)
    {
        ReadOnlySpan<float> a = x;
        for (int l = 1; l <= OutputLayer; l++)
        {
            Span<float> z = ws.ZRows(l), next = ws.ARows(l);
            if (!WeightedInputs(l, a, ws, z))
            {
                Span<float> output = ws.ARows(OutputLayer);
                output.Fill(float.NaN);
                return output;
            }

            // A softmax gets the padded row: its exponential runs in place over MinRun floats (no scratch copy).
            Activate(l, z, _activations[l - 1].Kind == ActivationKind.Softmax ? ws.PaddedARowsForWriting(l) : next, z.Length);
            a = ws.PaddedARows(l);
        }

        return ws.ARows(OutputLayer);
    }

    /// <summary>The batch path's first step for sample <paramref name="s"/> of a block: layer 1's weighted inputs for
    /// <paramref name="x"/>, into row s of the block (the activation follows in <see cref="FinishBlock"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void FirstLayerOfBlock(ReadOnlySpan<float> x, QuantizedWorkspace ws, int s)
    {
        int rows = Layout.Sizes[1];
        ws.Failed[s] = !WeightedInputs(1, x, ws, ws.BlockZRows(1).Slice(s * rows, rows));
    }

    /// <summary>
    /// The rest of the forward pass for the first <paramref name="count"/> samples of a block whose layer 1 ran
    /// (<see cref="FirstLayerOfBlock"/>): each layer's activation applied once to all rows, each later layer's weighted
    /// inputs for the whole block with <see cref="FeedForwardOne"/>'s arithmetic (<see cref="LaterLayerOfBlock"/>), the output rows written to
    /// <paramref name="outputs"/> (<c>count x n_L</c>). Bit-identical to <see cref="FeedForwardOne"/> per sample: the
    /// element-wise activations give each element the same bits however long the run (<see cref="ActivationFunctions.MinRun"/>),
    /// softmax is <see cref="ActivationFunctions.SoftmaxBlock"/> in both paths, log-softmax works row by row, and each activation row is quantized from the same padded row as there.
    /// </summary>
    /// <param name="ws">The workspace the block's layer 1 ran in.</param>
    /// <param name="count">Samples in the block.</param>
    /// <param name="outputs">Where the output rows go.</param>
    /// <param name="upcoming">Input rows (n_0 floats each) of the next block, prefetched into L2 as the second layer
    /// copies its inputs, so that the next block's layer 1 need not wait for them; may be empty.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void FinishBlock(QuantizedWorkspace ws, int count, Span<float> outputs, ReadOnlySpan<float> upcoming = default)
    {
        int n0 = InputSize;
        int prefetches = Math.Min(count, upcoming.Length / n0);
        Span<bool> failed = ws.Failed[..count];
        for (int l = 1; l <= OutputLayer; l++)
        {
            int rows = Layout.Sizes[l];
            Span<float> z = ws.BlockZRows(l)[..(count * rows)];
            if (l > 1)
            {
                LaterLayerOfBlock(l, ws, count, z, l == 2 ? upcoming[..(prefetches * n0)] : default);
            }

            // A failed sample's row holds stale numbers here; its output is overwritten with NaN below.
            Activate(l, z, l == OutputLayer ? outputs[..(count * rows)] : ws.BlockARows(l)[..(count * rows)], rows);
        }

        int nL = OutputSize;
        for (int s = 0; s < count; s++)
        {
            if (failed[s])
            {
                outputs.Slice(s * nL, nL).Fill(float.NaN);
            }
        }
    }

    /// <summary>
    /// Layer l's (l &gt;= 2) weighted inputs for a block: each activation row copied into its padded row (the zeros after
    /// it as in <see cref="QuantizedWorkspace.PaddedARows"/>, so the codes are <see cref="FeedForwardOne"/>'s), quantized
    /// (with a calibrated scale in one call for the block), multiplied over every quad in one call, dequantized per
    /// sample. A sample whose input holds a NaN or infinity is marked failed; a failed sample's row is not written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void LaterLayerOfBlock(int l, QuantizedWorkspace ws, int count, Span<float> z, ReadOnlySpan<float> upcoming)
    {
        int inputs = Layout.Sizes[l - 1], rows = Layout.Sizes[l], stride = Stride(l), padded = PaddedRows(l), quads = Quads(l), n0 = InputSize;
        ReadOnlySpan<float> a = ws.BlockARows(l - 1);
        Span<float> padIn = ws.BlockInputRows(l)[..(count * stride)];
        Span<byte> codes = ws.BlockCodes[..(count * stride)];
        Span<bool> failed = ws.Failed[..count];
        for (int s = 0; s < count; s++)
        {
            if (s * n0 < upcoming.Length)
            {
                Prefetch.Rows(upcoming, new ReadOnlySpan<int>(in s), n0); // the next block's input, fetched under this work
            }

            a.Slice(s * inputs, inputs).CopyTo(padIn.Slice(s * stride, inputs));
        }

        Span<ActivationScale> scales = ws.BlockScales[..count];
        if (_inputScales is { } fixedScales)
        {
            ActivationScale input = fixedScales[l];
            scales.Fill(input);
            if (!Int8Quantize.QuantizeSaturating(padIn, input.Inverse, input.ZeroPoint, codes))
            {
                for (int s = 0; s < count; s++) // a NaN or infinity somewhere (most likely a failed sample's stale row): whose?
                {
                    failed[s] |= !Int8Quantize.QuantizeSaturating(padIn.Slice(s * stride, stride), input.Inverse, input.ZeroPoint, codes.Slice(s * stride, stride));
                }
            }
        }
        else
        {
            for (int s = 0; s < count; s++)
            {
                if (failed[s])
                {
                    continue; // its codes keep earlier values, all codes still: its output becomes NaN
                }

                ReadOnlySpan<float> row = padIn.Slice(s * stride, stride);
                if (!ActivationScale.TryChoose(row, out scales[s]))
                {
                    failed[s] = true;
                    continue;
                }

                Int8Quantize.Quantize(row, scales[s].Inverse, scales[s].ZeroPoint, codes.Slice(s * stride, stride));
            }
        }

        Span<int> sums = ws.BlockSums[..(count * padded)];
        Int8MatrixVector.MultiplyBlock(WeightsOf(l), rows, quads, codes, stride, count, sums, Int8MatrixVector.DefaultPath);
        for (int s = 0; s < count; s++)
        {
            if (!failed[s])
            {
                Dequantize(sums.Slice(s * padded, rows), scales[s], l, z.Slice(s * rows, rows));
            }
        }
    }

    /// <summary>Layer l's activation on rows of <paramref name="width"/>: the float network's functions, except that a
    /// softmax is <see cref="ActivationFunctions.SoftmaxBlock"/>, whose bits per row do not depend on how many rows go together.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Activate(int l, ReadOnlySpan<float> z, Span<float> a, int width)
    {
        Activation f = _activations[l - 1];
        if (f.Kind == ActivationKind.Softmax)
        {
            ActivationFunctions.SoftmaxBlock(z, a, width);
        }
        else
        {
            ActivationFunctions.Apply(f, z, a, width);
        }
    }

    /// <summary>Layer l's weighted inputs <paramref name="z"/> for one sample's input <paramref name="a"/>: its scale
    /// chosen (or the calibrated one taken), quantized, the nonzero quads listed and multiplied, the sums dequantized.
    /// False when <paramref name="a"/> holds a NaN or infinity (then <paramref name="z"/> is not written).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool WeightedInputs(int l, ReadOnlySpan<float> a, QuantizedWorkspace ws, Span<float> z)
    {
        Span<byte> codes = ws.Codes(l); // Stride(l) long; the codes past a's end keep the zero they had or an earlier zero point: their weights are 0
        ActivationScale input;
        if (_inputScales is { } fixedScales)
        {
            input = fixedScales[l];
            if (!Int8Quantize.QuantizeSaturating(a, input.Inverse, input.ZeroPoint, codes))
            {
                return false;
            }
        }
        else
        {
            if (!ActivationScale.TryChoose(a, out input))
            {
                return false;
            }

            Int8Quantize.Quantize(a, input.Inverse, input.ZeroPoint, codes);
        }

        ws.RecordScale(l, input);
        int quads = Quads(l);
        Span<int> list = ws.QuadList;
        int count = Int8Quantize.NonzeroQuads(codes, quads, list);
        Span<int> sums = ws.Sums(l); // PaddedRows(l) long
        Int8MatrixVector.Multiply(WeightsOf(l), z.Length, quads, codes, list[..count], sums);
        Dequantize(sums, input, l, z);
        return true;
    }

    // z_j = (s_j s_a) (sum_j - zeroPoint rowSum_j) + b_j: the integer part exact in int32 (MaxInputs), then a
    // conversion, two products and an add, in that order in every lane and in the scalar tail (no fused multiply-add).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Dequantize(ReadOnlySpan<int> sums, ActivationScale input, int l, Span<float> z)
    {
        int offset = Layout.NeuronOffset(l), n = z.Length, j = 0;
        ReadOnlySpan<float> scales = _scales.AsSpan(offset, n), biases = _biases.AsSpan(offset, n);
        ReadOnlySpan<int> rowSums = _rowSums.AsSpan(offset, n);
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<int> zeroPoint = Vector256.Create(input.ZeroPoint);
            Vector256<float> step = Vector256.Create(input.Scale);
            for (; j + 8 <= n; j += 8)
            {
                Vector256<int> exact = Vector256.Create(sums.Slice(j, 8)) - (zeroPoint * Vector256.Create(rowSums.Slice(j, 8)));
                Vector256<float> scale = Vector256.Create(scales.Slice(j, 8)) * step;
                ((Vector256.ConvertToSingle(exact) * scale) + Vector256.Create(biases.Slice(j, 8))).CopyTo(z.Slice(j, 8));
            }
        }

        for (; j < n; j++)
        {
            float scale = scales[j] * input.Scale;
            z[j] = ((float)(sums[j] - (input.ZeroPoint * rowSums[j])) * scale) + biases[j];
        }
    }

    private void QuantizeLayer(Network network, int l)
    {
        int rows = Layout.Sizes[l], cols = Layout.Sizes[l - 1], offset = Layout.NeuronOffset(l);
        ReadOnlySpan<float> weights = network.WeightsOf(l), biases = network.BiasesOf(l);
        if (!Elementwise.AllFinite(weights) || !Elementwise.AllFinite(biases))
        {
            throw new ArgumentException($"network has a NaN or infinite weight or bias in layer {l}; only finite parameters can be quantized.", nameof(network));
        }

        biases.CopyTo(_biases.AsSpan(offset, rows));
        for (int j = 0; j < rows; j++)
        {
            ReadOnlySpan<float> row = weights.Slice(j * cols, cols);
            float largest = TensorPrimitives.MaxMagnitude(row);
            largest = Math.Abs(largest);
            if (largest == 0f)
            {
                continue; // a zero row: codes 0, scale 0
            }

            // In double, so that neither 127 / largest (tiny weights) nor the quotients overflow or lose the last code.
            double inverse = 127.0 / largest;
            int sum = 0;
            for (int k = 0; k < cols; k++)
            {
                int q = (int)Math.Clamp(Math.Round(row[k] * inverse, MidpointRounding.ToEven), -127, 127);
                SetCode(l, j, k, (sbyte)q);
                sum += q;
            }

            _scales[offset + j] = (float)(largest / 127.0);
            _rowSums[offset + j] = sum;
        }
    }

    private void SetCode(int l, int j, int k, sbyte code) => _weights[CodeIndex(l, j, k)] = code;

    /// <summary>Fills layer l from row-major codes in [-127, 127], row scales and biases (already checked by the reader).</summary>
    internal void SetLayer(int l, ReadOnlySpan<sbyte> codes, ReadOnlySpan<float> scales, ReadOnlySpan<float> biases)
    {
        int rows = Layout.Sizes[l], cols = Layout.Sizes[l - 1], offset = Layout.NeuronOffset(l);
        for (int j = 0; j < rows; j++)
        {
            int sum = 0;
            for (int k = 0; k < cols; k++)
            {
                sbyte q = codes[(j * cols) + k];
                SetCode(l, j, k, q);
                sum += q;
            }

            _rowSums[offset + j] = sum;
        }

        scales.CopyTo(_scales.AsSpan(offset, rows));
        biases.CopyTo(_biases.AsSpan(offset, rows));
    }
}

/// <summary>
/// How one sample's layer input becomes 7-bit codes: <c>a ~ Scale (u - ZeroPoint)</c>, <c>u</c> in [0, 127]. The range
/// covers <c>[min(a, 0), max(a, 0)]</c> (of the sample, or of the calibration data) in 127 steps; a non-negative input
/// (pixels, sigmoid, ReLU) has zero point 0, any other a zero point that makes 0 exact.
/// </summary>
internal readonly record struct ActivationScale(float Scale, float Inverse, int ZeroPoint)
{
    /// <summary>A fixed scale: the step and zero point as a calibration chose them or a file stored them, the inverse
    /// computed from the step (so the two give the same codes); null unless the step is positive and finite with a
    /// finite inverse and the zero point is a code.</summary>
    public static ActivationScale? Fixed(float scale, int zeroPoint)
    {
        float inverse = (float)(1.0 / scale);
        return float.IsFinite(scale) && scale > 0 && float.IsFinite(inverse) && zeroPoint is >= 0 and <= 127
            ? new ActivationScale(scale, inverse, zeroPoint)
            : null;
    }

    /// <summary>The fixed scale whose codes cover <c>[min(low, 0), max(high, 0)]</c>; null when that range is empty or too narrow.</summary>
    public static ActivationScale? FromRange(float low, float high)
    {
        low = Math.Min(low, 0f);
        high = Math.Max(high, 0f);
        double range = (double)high - low;
        return range > 0 ? Fixed((float)(range / 127.0), (int)Math.Round(-low * (127.0 / range), MidpointRounding.ToEven)) : null;
    }

    /// <summary>The scale for <paramref name="a"/>; false when a value is NaN or infinite.</summary>
    public static bool TryChoose(ReadOnlySpan<float> a, out ActivationScale scale)
    {
        if (!Int8Quantize.Range(a, out float min, out float max))
        {
            scale = default;
            return false;
        }

        float low = Math.Min(min, 0f), high = Math.Max(max, 0f);

        double range = (double)high - low; // in double: high - low can overflow a float
        if (range == 0)
        {
            scale = new ActivationScale(0f, 0f, 0); // all zero: every code 0
            return true;
        }

        double inverse = 127.0 / range;
        scale = new ActivationScale((float)(range / 127.0), (float)inverse, (int)Math.Round(-low * inverse, MidpointRounding.ToEven));
        return true;
    }
}
