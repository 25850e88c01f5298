using Backprop.Simd.Benchmarks.Infrastructure;
using Backprop.Simd.Onnx;
using Backprop.Simd.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Simd.Benchmarks.Onnx;

/// <summary>
/// One network and its ONNX model with everything the benchmarks run on, built outside the measured code: random
/// sigmoid weights (N(0, 1), seed 1), random inputs in [0, 1), our workspace, and ONNX Runtime sessions with their
/// inputs and outputs preallocated and bound once.
/// </summary>
public sealed class Fixture : IDisposable
{
    /// <summary>Samples in the throughput batch.</summary>
    public const int BatchSize = 10_000;

    private readonly OrtResources _ort = new();

    /// <param name="sizes">Neurons per layer.</param>
    /// <param name="inputs">"random" (uniform in [0, 1)) or the bundled MNIST digits (<see cref="BundledDigits.Name"/>; 784 inputs only).</param>
    public Fixture(int[] sizes, string inputs = "random")
    {
        Sizes = sizes;
        Network = new Network(sizes, seed: 1);
        Workspace = new Workspace(Network);
        Model = OnnxModel.ToBytes(Network);
        Batch = new float[BatchSize * Network.InputSize];
        if (inputs == BundledDigits.Name)
        {
            Backprop.Simd.Data.Dataset digits = BundledDigits.Load();
            for (int i = 0; i < BatchSize; i++)
            {
                digits.Input(i).CopyTo(Batch.AsSpan(i * Network.InputSize, Network.InputSize));
            }
        }
        else
        {
            var random = new Random(2);
            for (int i = 0; i < Batch.Length; i++)
            {
                Batch[i] = random.NextSingle();
            }
        }

        Sample = Batch[..Network.InputSize];
        SampleOutput = new float[Network.OutputSize];
        BatchOutput = new float[BatchSize * Network.OutputSize];
        Batched1 = new BatchInference(Network, threads: 1);
        Batched2 = new BatchInference(Network, threads: 2);
        _ort.Own(Batched1);
        _ort.Own(Batched2);

        RunOptions = _ort.Own(new RunOptions());
        Session1 = _ort.Session(Model, threads: 1);
        Session2 = _ort.Session(Model, threads: 2);

        SampleInput = _ort.Own(OrtValue.CreateTensorValueFromMemory(Sample, [1, Network.InputSize]));
        InputNames = [OnnxModel.InputName];
        OutputNames = [OnnxModel.OutputName];
        Inputs = [SampleInput];
        SampleBinding = _ort.Bind(Session1, SampleInput, SampleOutput, 1, Network.OutputSize);
        OrtValue batchInput = _ort.Own(OrtValue.CreateTensorValueFromMemory(Batch, [BatchSize, Network.InputSize]));
        BatchBinding1 = _ort.Bind(Session1, batchInput, BatchOutput, BatchSize, Network.OutputSize);
        BatchBinding2 = _ort.Bind(Session2, batchInput, BatchOutput, BatchSize, Network.OutputSize);
    }

    public int[] Sizes { get; }

    public Network Network { get; }

    public Workspace Workspace { get; }

    public byte[] Model { get; }

    /// <summary>BatchSize samples, row-major.</summary>
    public float[] Batch { get; }

    public float[] Sample { get; }

    public float[] SampleOutput { get; }

    public float[] BatchOutput { get; }

    public RunOptions RunOptions { get; }

    /// <summary>intra-op threads 1.</summary>
    public InferenceSession Session1 { get; }

    /// <summary>intra-op threads 2.</summary>
    public InferenceSession Session2 { get; }

    public OrtValue SampleInput { get; }

    public string[] InputNames { get; }

    public string[] OutputNames { get; }

    public OrtValue[] Inputs { get; }

    /// <summary>Session1 with Sample and SampleOutput bound.</summary>
    public OrtIoBinding SampleBinding { get; }

    public OrtIoBinding BatchBinding1 { get; }

    public OrtIoBinding BatchBinding2 { get; }

    public string Name => "[" + string.Join(",", Sizes) + "]";

    /// <summary>Ours: one sample through FeedForward.</summary>
    public float Ours() => Network.FeedForward(Sample, Workspace)[0];

    /// <summary>Ours, batched: blocks of 64 samples through the register-blocked forward pass, on one thread.</summary>
    public BatchInference Batched1 { get; }

    /// <summary>Ours, batched, on two threads.</summary>
    public BatchInference Batched2 { get; }

    /// <summary>Ours: the whole batch through <see cref="BatchInference"/> on 1 or 2 threads.</summary>
    public float OursBatched(int threads)
    {
        (threads == 1 ? Batched1 : Batched2).FeedForward(Batch, BatchOutput);
        return BatchOutput[0];
    }

    /// <summary>Ours: every sample of the batch through FeedForward, one after another.</summary>
    public float OursBatch()
    {
        int n = Network.InputSize;
        float sum = 0;
        for (int s = 0; s < BatchSize; s++)
        {
            sum += Network.FeedForward(Batch.AsSpan(s * n, n), Workspace)[0];
        }

        return sum;
    }

    /// <summary>ONNX Runtime's plain Run: the input OrtValue is reused, the output is allocated by the run.</summary>
    public float OnnxRun()
    {
        using IDisposableReadOnlyCollection<OrtValue> outputs = Session1.Run(RunOptions, InputNames, Inputs, OutputNames);
        return outputs[0].GetTensorDataAsSpan<float>()[0];
    }

    /// <summary>ONNX Runtime with input and output bound once over preallocated buffers.</summary>
    public float OnnxBound()
    {
        Session1.RunWithBinding(RunOptions, SampleBinding);
        return SampleOutput[0];
    }

    public float OnnxBatch(int threads)
    {
        (threads == 1 ? Session1 : Session2).RunWithBinding(RunOptions, threads == 1 ? BatchBinding1 : BatchBinding2);
        return BatchOutput[0];
    }

    /// <summary>Throws unless every way of running gives the same outputs as FeedForward (to float rounding).</summary>
    public void Check()
    {
        float ours = Ours();
        Require(Math.Abs(OnnxRun() - ours) < 1e-4f && Math.Abs(OnnxBound() - ours) < 1e-4f, "single sample");
        OnnxBatch(1);
        float[] one = (float[])BatchOutput.Clone();
        OursBatched(2);
        float[] batched = (float[])BatchOutput.Clone();
        OnnxBatch(2);
        int n = Network.InputSize, m = Network.OutputSize;
        for (int s = 0; s < BatchSize; s += 997)
        {
            ReadOnlySpan<float> y = Network.FeedForward(Batch.AsSpan(s * n, n), Workspace);
            for (int j = 0; j < m; j++)
            {
                Require(Math.Abs(y[j] - one[(s * m) + j]) < 1e-4f && Math.Abs(y[j] - BatchOutput[(s * m) + j]) < 1e-4f && Math.Abs(y[j] - batched[(s * m) + j]) < 1e-4f, $"batch sample {s}");
            }
        }
    }

    public void Dispose()
    {
        _ort.Dispose();
    }

    private static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"ONNX Runtime and FeedForward disagree ({what}).");
        }
    }
}
