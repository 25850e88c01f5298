using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Data;
using Backprop.Simd.Kernels;
using Backprop.Simd.Runtime;
using BenchmarkDotNet.Attributes;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// int8 inference (<see cref="QuantizedNetwork"/>) against float32 (<see cref="Network"/>) on the same trained-shape
/// network and the bundled digits: single-sample <c>Predict</c> cycling through 1,000 inputs (3 MB, so each input
/// comes from L3 as a new request's would) and on one input again and again (in L1), a batch of 10,000 on one
/// thread (<see cref="BatchInference"/> against <see cref="QuantizedBatchInference"/>), and the int8 path's two steps
/// on the first layer alone (quantizing the 784 inputs, the 784-wide matrix-vector product) to see where its time goes.
/// GB/s (<see cref="InferenceCase"/> says what is counted): float32 rows 4 bytes per weight, int8 rows 1, plus the
/// input; <c>StreamInputs</c> its inputs. The int8 path that ran is printed first (<see cref="MachineInfo"/>).
/// ONNX Runtime's rows are in benchmarks/Backprop.Simd.Benchmarks.Onnx (<c>QuantizedInference</c>), which keeps ONNX
/// Runtime out of this project.
/// </summary>
[MemoryDiagnoser]
public class QuantizedBenchmarks
{
    private const int InputsCycled = 1000;
    private const int Batch = 10_000;

    private Network _network = null!;
    private Workspace _workspace = null!;
    private QuantizedNetwork _quantized = null!;
    private QuantizedNetwork _oneLayer = null!;
    private QuantizedWorkspace _oneLayerWorkspace = null!;
    private QuantizedWorkspace _quantizedWorkspace = null!;
    private BatchInference _batch = null!;
    private QuantizedBatchInference _quantizedBatch = null!;
    private float[] _inputs = null!;
    private float[] _outputs = null!;
    private sbyte[] _firstLayer = null!;
    private byte[] _codes = null!;
    private int[] _sums = null!;
    private int[] _quadList = null!;
    private QuantizedNetwork _tail = null!;
    private QuantizedNetwork _tailIdentity = null!;
    private QuantizedWorkspace _tailWorkspace = null!;
    private QuantizedWorkspace _tailIdentityWorkspace = null!;
    private float[] _hidden = null!;
    private float[] _tailZ = null!;
    private float[] _tailA = null!;
    private QuantizedWorkspace _blockWorkspace = null!;
    private float[] _blockOutputs = null!;
    private QuantizedNetwork _calibrated = null!;
    private QuantizedWorkspace _calibratedBlockWorkspace = null!;
    private QuantizedBatchInference _calibratedBatch = null!;
    private int _next;

    /// <summary>The two shapes of issue 17.</summary>
    public static IEnumerable<InferenceCase> Cases => [new("784-30-10"), new("784-100-10")];

    /// <summary>The network's shape.</summary>
    [ParamsSource(nameof(Cases))]
    public InferenceCase Case { get; set; } = new("784-30-10");

    /// <summary>Builds both networks, the batch runners and 10,000 inputs (the bundled digits), then warms every row up.</summary>
    [GlobalSetup]
    public void Setup()
    {
        MachineInfo.PrintOnce();
        int[] sizes = Case.Layers;
        _network = new Network(sizes, 1, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood, WeightInit = WeightInit.He });
        _workspace = new Workspace(_network);
        _quantized = QuantizedNetwork.From(_network);
        _quantizedWorkspace = new QuantizedWorkspace(_quantized);
        _batch = new BatchInference(_network, threads: 1);
        _oneLayer = QuantizedNetwork.From(new Network(sizes.AsSpan(0, 2), 1, new NetworkOptions { OutputActivation = Activation.Identity }));
        _oneLayerWorkspace = new QuantizedWorkspace(_oneLayer);
        var tailOptions = new NetworkOptions { Cost = CostFunction.LogLikelihood, WeightInit = WeightInit.He };
        _tail = QuantizedNetwork.From(new Network(sizes.AsSpan(1), 1, tailOptions));
        _tailIdentity = QuantizedNetwork.From(new Network(sizes.AsSpan(1), 1, tailOptions with { Cost = CostFunction.Quadratic, OutputActivation = Activation.Identity }));
        _tailWorkspace = new QuantizedWorkspace(_tail);
        _tailIdentityWorkspace = new QuantizedWorkspace(_tailIdentity);
        _quantizedBatch = new QuantizedBatchInference(_quantized, threads: 1);
        Dataset digits = BundledDigits.Load();
        _inputs = new float[Batch * sizes[0]];
        for (int i = 0; i < Batch; i++)
        {
            digits.Input(i % digits.Count, _inputs.AsSpan(i * sizes[0], sizes[0]));
        }

        _outputs = new float[Batch * sizes[^1]];
        _firstLayer = _quantized.WeightsOf(1).ToArray();
        _codes = new byte[_quantized.Stride(1)];
        _sums = new int[Int8MatrixVector.PaddedRows(sizes[1])];
        _quadList = new int[(_quantized.Quads(1) + 7) & ~7];
        _hidden = HiddenOf(_inputs.AsSpan(0, sizes[0]));
        _tailZ = new float[sizes[^1]];
        _tailA = new float[sizes[^1]];
        _hidden.AsSpan(0, _tailZ.Length).CopyTo(_tailZ);
        _blockWorkspace = new QuantizedWorkspace(_quantized);
        _blockOutputs = new float[QuantizedNetwork.BlockSamples * sizes[^1]];
        for (int s = 0; s < QuantizedNetwork.BlockSamples; s++)
        {
            _quantized.FirstLayerOfBlock(_inputs.AsSpan(s * sizes[0], sizes[0]), _blockWorkspace, s);
        }

        _calibrated = QuantizedNetwork.From(_network, digits);
        _calibratedBlockWorkspace = new QuantizedWorkspace(_calibrated);
        _calibratedBatch = new QuantizedBatchInference(_calibrated, threads: 1);
        for (int s = 0; s < QuantizedNetwork.BlockSamples; s++)
        {
            _calibrated.FirstLayerOfBlock(_inputs.AsSpan(s * sizes[0], sizes[0]), _calibratedBlockWorkspace, s);
        }

        WarmUp.Run(() =>
        {
            Float32();
            Int8();
            Float32HotInput();
            Int8HotInput();
            Int8FirstLayerHot();
            Float32Batch();
            Int8Batch();
            QuantizeInput();
            FirstLayerProduct();
            TailHot();
            TailIdentityHot();
            SoftmaxHot();
            ArgMaxHot();
            BlockTail();
            Int8CalibratedBatch();
            QuantizeSaturatingHot();
            CalibratedBlockTail();
        });
    }

    /// <summary>Stops the batch runners' threads.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _batch?.Dispose();
        _quantizedBatch?.Dispose();
        _calibratedBatch?.Dispose();
    }

    /// <summary><see cref="Network.Predict"/> on one sample.</summary>
    [Benchmark(Baseline = true)]
    [Work(Samples = 1, BytesPerWeight = 4)]
    public int Float32() => _network.Predict(NextInput(), _workspace);

    /// <summary><see cref="QuantizedNetwork.Predict"/> on one sample.</summary>
    [Benchmark]
    [Work(Samples = 1, BytesPerWeight = 1)]
    public int Int8() => _quantized.Predict(NextInput(), _quantizedWorkspace);

    /// <summary><see cref="Network.Predict"/> on the same sample every call: the input stays in L1, as in a tight loop.</summary>
    [Benchmark]
    [Work(Samples = 1, BytesPerWeight = 4)]
    public int Float32HotInput() => _network.Predict(_inputs.AsSpan(0, _network.InputSize), _workspace);

    /// <summary><see cref="QuantizedNetwork.Predict"/> on the same sample every call.</summary>
    [Benchmark]
    [Work(Samples = 1, BytesPerWeight = 1)]
    public int Int8HotInput() => _quantized.Predict(_inputs.AsSpan(0, _network.InputSize), _quantizedWorkspace);

    /// <summary><see cref="BatchInference.FeedForward"/> on 10,000 samples, one thread; Mean is per sample.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    [Work(Samples = Batch, BytesPerWeight = 4)]
    public void Float32Batch() => _batch.FeedForward(_inputs, _outputs);

    /// <summary><see cref="QuantizedBatchInference.FeedForward"/> on 10,000 samples, one thread; Mean is per sample.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    [Work(Samples = Batch, BytesPerWeight = 1)]
    public void Int8Batch() => _quantizedBatch.FeedForward(_inputs, _outputs);

    /// <summary><see cref="Int8Batch"/> with scales calibrated on the bundled digits (<see cref="QuantizedNetwork.From(Network, Dataset)"/>).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    [Work(Samples = Batch, BytesPerWeight = 1)]
    public void Int8CalibratedBatch() => _calibratedBatch.FeedForward(_inputs, _outputs);

    /// <summary>The floor of any batch over these inputs: the range pass alone over each of the 10,000 inputs (31 MB,
    /// more than this host's caches hold), reading every float once; Mean is per sample.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    [Work(Samples = Batch, Bytes = Batch * 784 * sizeof(float))]
    public bool StreamInputs()
    {
        int n0 = _network.InputSize;
        bool finite = true;
        for (int i = 0; i < Batch; i++)
        {
            finite &= Int8Quantize.Range(_inputs.AsSpan(i * n0, n0), out _, out _);
        }

        return finite;
    }

    /// <summary>The int8 path's first step: choosing the input's scale and quantizing its 784 values.</summary>
    [Benchmark]
    public int QuantizeInput()
    {
        ReadOnlySpan<float> x = NextInput();
        _ = ActivationScale.TryChoose(x, out ActivationScale scale);
        Int8Quantize.Quantize(x, scale.Inverse, scale.ZeroPoint, _codes);
        return _codes[0];
    }

    /// <summary>The first layer alone as a network (identity output), one input again and again: the fixed cost of a
    /// call and of dequantizing, next to <see cref="RangeHot"/>, <see cref="QuantizeHot"/> and <see cref="FirstLayerProduct"/>.</summary>
    [Benchmark]
    public int Int8FirstLayerHot() => _oneLayer.Predict(_inputs.AsSpan(0, _network.InputSize), _oneLayerWorkspace);

    /// <summary>The range pass alone, on one input again and again.</summary>
    [Benchmark]
    public bool RangeHot() => Int8Quantize.Range(_inputs.AsSpan(0, _network.InputSize), out _, out _);

    /// <summary>The quantization alone (scale given), on one input again and again.</summary>
    [Benchmark]
    public int QuantizeHot()
    {
        Int8Quantize.Quantize(_inputs.AsSpan(0, _network.InputSize), 127f, 0, _codes);
        return _codes[0];
    }

    /// <summary>The calibrated quantization (saturating, with the NaN-or-infinity check) of one input again and again.</summary>
    [Benchmark]
    public int QuantizeSaturatingHot()
    {
        _ = Int8Quantize.QuantizeSaturating(_inputs.AsSpan(0, _network.InputSize), 127f, 0, _codes);
        return _codes[0];
    }

    /// <summary>The int8 path's first-layer product alone: listing the nonzero quads of the last quantized input, and
    /// n_1 rows times them.</summary>
    [Benchmark]
    public int FirstLayerProduct()
    {
        int quads = _quantized.Quads(1);
        int count = Int8Quantize.NonzeroQuads(_codes, quads, _quadList);
        Int8MatrixVector.Multiply(_firstLayer, _network.Sizes[1], quads, _codes, _quadList.AsSpan(0, count), _sums);
        return _sums[0];
    }

    /// <summary>What follows layer 1 in <see cref="Int8HotInput"/>: the later layers, the softmax and the argmax, as a
    /// network of its own on one hidden activation (ReLU of the first layer's float weighted inputs) again and again.
    /// Its input is not padded as a hidden row is inside the network: n_1 not a multiple of 16 leaves scalar tails.</summary>
    [Benchmark]
    public int TailHot() => _tail.Predict(_hidden, _tailWorkspace);

    /// <summary><see cref="TailHot"/> with an identity output: the difference is the softmax's cost.</summary>
    [Benchmark]
    public int TailIdentityHot() => _tailIdentity.Predict(_hidden, _tailIdentityWorkspace);

    /// <summary>The batch's later layers for a block of <see cref="QuantizedNetwork.BlockSamples"/> samples whose layer 1
    /// is done (<see cref="QuantizedNetwork.FinishBlock"/>: the hidden activations for the block, the later int8 layers
    /// for the whole block, the softmax), in L1; Mean is per sample.</summary>
    [Benchmark(OperationsPerInvoke = QuantizedNetwork.BlockSamples)]
    public float BlockTail()
    {
        _quantized.FinishBlock(_blockWorkspace, QuantizedNetwork.BlockSamples, _blockOutputs);
        return _blockOutputs[0];
    }

    /// <summary><see cref="BlockTail"/> for the calibrated network; Mean is per sample.</summary>
    [Benchmark(OperationsPerInvoke = QuantizedNetwork.BlockSamples)]
    public float CalibratedBlockTail()
    {
        _calibrated.FinishBlock(_calibratedBlockWorkspace, QuantizedNetwork.BlockSamples, _blockOutputs);
        return _blockOutputs[0];
    }

    /// <summary>The output layer's softmax alone on one row, as the int8 path applies it.</summary>
    [Benchmark]
    public float SoftmaxHot()
    {
        ActivationFunctions.Apply(Activation.Softmax, _tailZ, _tailA, _tailA.Length);
        return _tailA[0];
    }

    /// <summary>The argmax of one output row.</summary>
    [Benchmark]
    public int ArgMaxHot() => Network.ArgMax(_tailA);

    // Layer 1's ReLU activations for x in the float network: a typical input of the later layers.
    private float[] HiddenOf(ReadOnlySpan<float> x)
    {
        int rows = _network.Sizes[1], cols = _network.InputSize;
        ReadOnlySpan<float> w = _network.Weights(1), b = _network.Biases(1);
        var hidden = new float[rows];
        for (int j = 0; j < rows; j++)
        {
            float z = b[j];
            for (int k = 0; k < cols; k++)
            {
                z += w[(j * cols) + k] * x[k];
            }

            hidden[j] = Math.Max(z, 0f);
        }

        return hidden;
    }

    private ReadOnlySpan<float> NextInput()
    {
        int n0 = _network.InputSize, i = _next;
        _next = _next + 1 == InputsCycled ? 0 : _next + 1;
        return _inputs.AsSpan(i * n0, n0);
    }
}
