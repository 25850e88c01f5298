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

    private readonly List<IDisposable> _owned = [];

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
        _owned.Add(Batched1);
        _owned.Add(Batched2);

        RunOptions = Own(new RunOptions());
        Session1 = Session(threads: 1);
        Session2 = Session(threads: 2);

        SampleInput = Own(OrtValue.CreateTensorValueFromMemory(Sample, [1, Network.InputSize]));
        InputNames = [OnnxModel.InputName];
        OutputNames = [OnnxModel.OutputName];
        Inputs = [SampleInput];
        SampleBinding = Bind(Session1, SampleInput, SampleOutput, 1);
        OrtValue batchInput = Own(OrtValue.CreateTensorValueFromMemory(Batch, [BatchSize, Network.InputSize]));
        BatchBinding1 = Bind(Session1, batchInput, BatchOutput, BatchSize);
        BatchBinding2 = Bind(Session2, batchInput, BatchOutput, BatchSize);
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
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
    }

    private static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"ONNX Runtime and FeedForward disagree ({what}).");
        }
    }

    private InferenceSession Session(int threads)
    {
        SessionOptions options = Own(new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        });
        return Own(new InferenceSession(Model, options));
    }

    private OrtIoBinding Bind(InferenceSession session, OrtValue input, float[] output, int rows)
    {
        OrtIoBinding binding = Own(session.CreateIoBinding());
        binding.BindInput(OnnxModel.InputName, input);
        binding.BindOutput(OnnxModel.OutputName, Own(OrtValue.CreateTensorValueFromMemory(output, [rows, Network.OutputSize])));
        return binding;
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}
