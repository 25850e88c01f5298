using System.Runtime.Intrinsics.X86;
using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Onnx;
using Backprop.Simd.Runtime;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Simd.Benchmarks.Onnx;

/// <summary>
/// int8 against float32, ours against ONNX Runtime, in one run (issue 17's table): a He-initialised ReLU/softmax
/// network, its <see cref="QuantizedNetwork"/>, and both exported with <see cref="OnnxModel"/> (float: MatMul/Gemm;
/// int8: the 7-bit quantization in float nodes and MatMulInteger) run by ONNX Runtime on one intra-op thread with
/// inputs and outputs bound once. Single sample: one bundled digit again and again (in L1), the outputs computed
/// (FeedForward, not Predict, since ONNX Runtime returns the outputs). Batch: the 10,000 bundled digits on one thread,
/// Mean per sample. GFLOP/s-equivalent and GB/s as <see cref="InferenceCase"/> counts them (float32 rows 4 bytes
/// per weight, int8 rows 1, plus the input).
/// </summary>
[Config(typeof(QuantizedInferenceConfig))]
public class QuantizedInference
{
    private const int Batch = 10_000;

    private readonly OrtResources _ort = new();
    private Network _network = null!;
    private Workspace _workspace = null!;
    private QuantizedNetwork _quantized = null!;
    private QuantizedWorkspace _quantizedWorkspace = null!;
    private BatchInference _batch = null!;
    private QuantizedBatchInference _quantizedBatch = null!;
    private float[] _inputs = null!;
    private float[] _sample = null!;
    private float[] _outputs = null!;
    private float[] _ortFloatSample = null!, _ortInt8Sample = null!, _ortFloatOutputs = null!, _ortInt8Outputs = null!;
    private RunOptions _run = null!;
    private InferenceSession _floatSession = null!, _int8Session = null!;
    private OrtIoBinding _floatOne = null!, _int8One = null!, _floatMany = null!, _int8Many = null!;

    /// <summary>The two shapes of issue 17.</summary>
    public static IEnumerable<InferenceCase> Cases => [new("784-30-10"), new("784-100-10")];

    /// <summary>The network's shape.</summary>
    [ParamsSource(nameof(Cases))]
    public InferenceCase Case { get; set; } = new("784-30-10");

    /// <summary>Builds the networks, the two ONNX Runtime sessions and their bindings, checks that all four agree, and
    /// prints which int8 instructions this processor offers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Console.WriteLine($"VectorInfo: Avx2.IsSupported = {Avx2.IsSupported}, AvxVnni.IsSupported = {AvxVnni.IsSupported} " +
            "(the library's int8 product runs AvxVnni where supported, else AVX2), " +
            $"BACKPROP_SIMD_BITS = {Environment.GetEnvironmentVariable("BACKPROP_SIMD_BITS") ?? "unset"}");
        int[] sizes = Case.Layers;
        _network = new Network(sizes, 1, new NetworkOptions { HiddenActivation = Activation.ReLU, Cost = CostFunction.LogLikelihood, WeightInit = WeightInit.He });
        _workspace = new Workspace(_network);
        _quantized = QuantizedNetwork.From(_network);
        _quantizedWorkspace = new QuantizedWorkspace(_quantized);
        _batch = _ort.Own(new BatchInference(_network, threads: 1));
        _quantizedBatch = _ort.Own(new QuantizedBatchInference(_quantized, threads: 1));
        Backprop.Simd.Data.Dataset digits = BundledDigits.Load();
        int n = sizes[0], m = sizes[^1];
        _inputs = new float[Batch * n];
        for (int i = 0; i < Batch; i++)
        {
            digits.Input(i % digits.Count, _inputs.AsSpan(i * n, n));
        }

        _sample = _inputs[..n];
        _outputs = new float[Batch * m];
        _ortFloatSample = new float[m];
        _ortInt8Sample = new float[m];
        _ortFloatOutputs = new float[Batch * m];
        _ortInt8Outputs = new float[Batch * m];
        _run = _ort.Own(new RunOptions());
        _floatSession = _ort.Session(OnnxModel.ToBytes(_network), threads: 1);
        _int8Session = _ort.Session(OnnxModel.ToBytes(_quantized), threads: 1);
        OrtValue one = _ort.Own(OrtValue.CreateTensorValueFromMemory(_sample, [1, n]));
        OrtValue many = _ort.Own(OrtValue.CreateTensorValueFromMemory(_inputs, [Batch, n]));
        _floatOne = _ort.Bind(_floatSession, one, _ortFloatSample, 1, _network.OutputSize);
        _int8One = _ort.Bind(_int8Session, one, _ortInt8Sample, 1, _network.OutputSize);
        _floatMany = _ort.Bind(_floatSession, many, _ortFloatOutputs, Batch, _network.OutputSize);
        _int8Many = _ort.Bind(_int8Session, many, _ortInt8Outputs, Batch, _network.OutputSize);
        Check();
        WarmUp.Run(() =>
        {
            Float32();
            Int8();
            OrtFloat32();
            OrtInt8();
            Float32Batch();
            Int8Batch();
            OrtFloat32Batch();
            OrtInt8Batch();
        });
    }

    /// <summary>Disposes the sessions, bindings and batch runners.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _ort.Dispose();
    }

    /// <summary><see cref="Network.FeedForward"/> on one sample.</summary>
    [Benchmark(Baseline = true)]
    [Work(Samples = 1, BytesPerWeight = 4)]
    public float Float32() => _network.FeedForward(_sample, _workspace)[0];

    /// <summary><see cref="QuantizedNetwork.FeedForward"/> on one sample.</summary>
    [Benchmark]
    [Work(Samples = 1, BytesPerWeight = 1)]
    public float Int8() => _quantized.FeedForward(_sample, _quantizedWorkspace)[0];

    /// <summary>ONNX Runtime, the float model, one sample.</summary>
    [Benchmark]
    [Work(Samples = 1, BytesPerWeight = 4)]
    public float OrtFloat32()
    {
        _floatSession.RunWithBinding(_run, _floatOne);
        return _ortFloatSample[0];
    }

    /// <summary>ONNX Runtime, the int8 (MatMulInteger) model, one sample.</summary>
    [Benchmark]
    [Work(Samples = 1, BytesPerWeight = 1)]
    public float OrtInt8()
    {
        _int8Session.RunWithBinding(_run, _int8One);
        return _ortInt8Sample[0];
    }

    /// <summary><see cref="BatchInference.FeedForward"/> on 10,000 samples, one thread; Mean is per sample.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    [Work(Samples = Batch, BytesPerWeight = 4)]
    public float Float32Batch()
    {
        _batch.FeedForward(_inputs, _outputs);
        return _outputs[0];
    }

    /// <summary><see cref="QuantizedBatchInference.FeedForward"/> on 10,000 samples, one thread; Mean is per sample.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    [Work(Samples = Batch, BytesPerWeight = 1)]
    public float Int8Batch()
    {
        _quantizedBatch.FeedForward(_inputs, _outputs);
        return _outputs[0];
    }

    /// <summary>ONNX Runtime, the float model, the [10000, 784] batch in one run; Mean is per sample.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    [Work(Samples = Batch, BytesPerWeight = 4)]
    public float OrtFloat32Batch()
    {
        _floatSession.RunWithBinding(_run, _floatMany);
        return _ortFloatOutputs[0];
    }

    /// <summary>ONNX Runtime, the int8 model, the [10000, 784] batch in one run; Mean is per sample.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    [Work(Samples = Batch, BytesPerWeight = 1)]
    public float OrtInt8Batch()
    {
        _int8Session.RunWithBinding(_run, _int8Many);
        return _ortInt8Outputs[0];
    }

    // Throws unless ONNX Runtime's float outputs are ours to float rounding, and its int8 model predicts the class our
    // int8 network predicts for at least 99% of the batch (the int8 outputs may differ where ONNX Runtime computes a
    // step in float that we compute in double: docs/quantization.md, "ONNX export").
    private void Check()
    {
        int n = _network.InputSize, m = _network.OutputSize;
        OrtFloat32Batch();
        OrtInt8Batch();
        Int8Batch();
        float[] int8 = (float[])_outputs.Clone();
        int same = 0;
        for (int s = 0; s < Batch; s++)
        {
            ReadOnlySpan<float> x = _inputs.AsSpan(s * n, n);
            ReadOnlySpan<float> y = _network.FeedForward(x, _workspace);
            for (int j = 0; j < m; j++)
            {
                Require(Math.Abs(y[j] - _ortFloatOutputs[(s * m) + j]) < 1e-4f, $"float sample {s}");
            }

            same += ArgMax(int8.AsSpan(s * m, m)) == ArgMax(_ortInt8Outputs.AsSpan(s * m, m)) ? 1 : 0;
        }

        Require(same >= Batch * 99 / 100, $"int8 classes: {same} of {Batch} agree");
        OrtFloat32();
        OrtInt8();
        Require(_network.FeedForward(_sample, _workspace)[0] - _ortFloatSample[0] is > -1e-4f and < 1e-4f, "float single sample");
        Require(ArgMax(_quantized.FeedForward(_sample, _quantizedWorkspace)) == ArgMax(_ortInt8Sample), "int8 single sample");
    }

    private static int ArgMax(ReadOnlySpan<float> y)
    {
        int best = 0;
        for (int j = 1; j < y.Length; j++)
        {
            best = y[j] > y[best] ? j : best;
        }

        return best;
    }

    private static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"ONNX Runtime and ours disagree ({what}).");
        }
    }
}

/// <summary><see cref="OnnxConfig"/>'s columns plus GFLOP/s-equivalent, GB/s and samples/s from the rows' declared work.</summary>
public sealed class QuantizedInferenceConfig : ManualConfig
{
    public QuantizedInferenceConfig()
    {
        AddColumn(StatisticColumn.Median, StatisticColumn.P95, new PercentileColumn(99),
            ThroughputColumn.Gflops, ThroughputColumn.GigabytesPerSecond, ThroughputColumn.SamplesPerSecond);
        AddDiagnoser(MemoryDiagnoser.Default);
        WithOptions(ConfigOptions.DisableLogFile);
    }
}
