using Backprop.Simd.Serialization;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Simd.Tests.Onnx;

/// <summary>Runs a model in ONNX Runtime (the reference implementation of ONNX), one inference session per model.</summary>
internal sealed class OnnxRuntimeOracle : IDisposable
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;

    public OnnxRuntimeOracle(byte[] model)
    {
        _options = new SessionOptions { IntraOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        _session = new InferenceSession(model, _options);
    }

    public InferenceSession Session => _session;

    public string InputName => _session.InputNames.Single();

    public string OutputName => _session.OutputNames.Single();

    /// <summary>The outputs for <paramref name="inputs"/>, <paramref name="batch"/> samples in a row-major
    /// [batch, inputs/batch] tensor (or <paramref name="shape"/>, when the model's input has another rank).</summary>
    public float[] Run(float[] inputs, int batch, long[]? shape = null)
    {
        shape ??= [batch, inputs.Length / batch];
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(inputs, shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, new Dictionary<string, OrtValue> { [InputName] = input }, [OutputName]);
        OrtValue output = outputs.Single();
        long[] outputShape = output.GetTensorTypeAndShape().Shape;
        Assert.Equal(2, outputShape.Length);
        Assert.Equal(batch, outputShape[0]);
        return output.GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
