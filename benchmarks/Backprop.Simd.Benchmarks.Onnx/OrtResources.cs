using Backprop.Simd.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Simd.Benchmarks.Onnx;

/// <summary>
/// What a benchmark holds of ONNX Runtime (and anything else disposable), disposed together, last made first:
/// sessions set up as every row here runs them, and I/O bindings to arrays the benchmark owns.
/// </summary>
internal sealed class OrtResources : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    /// <summary>Keeps <paramref name="disposable"/> until <see cref="Dispose"/>.</summary>
    public T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>A session on <paramref name="threads"/> intra-op threads, sequential, every graph optimization on.</summary>
    public InferenceSession Session(byte[] model, int threads)
    {
        SessionOptions options = Own(new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        });
        return Own(new InferenceSession(model, options));
    }

    /// <summary>Binds <paramref name="input"/> and <paramref name="output"/> (<paramref name="rows"/> x <paramref name="columns"/>) to the model's input and output.</summary>
    public OrtIoBinding Bind(InferenceSession session, OrtValue input, float[] output, int rows, int columns)
    {
        OrtIoBinding binding = Own(session.CreateIoBinding());
        binding.BindInput(OnnxModel.InputName, input);
        binding.BindOutput(OnnxModel.OutputName, Own(OrtValue.CreateTensorValueFromMemory(output, [rows, columns])));
        return binding;
    }

    /// <summary>Disposes everything kept, last first.</summary>
    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        _owned.Clear();
    }
}
