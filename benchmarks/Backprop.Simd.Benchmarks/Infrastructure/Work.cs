using BenchmarkDotNet.Running;

namespace Backprop.Simd.Benchmarks.Infrastructure;

/// <summary>
/// The amount of work a <c>[Params]</c>/<c>[ParamsSource]</c> value stands for, when the work of a benchmark depends on
/// its parameters (a matrix shape, a buffer size). Read by <see cref="ThroughputColumn"/>.
/// </summary>
public interface IWork
{
    /// <summary>Floating-point operations one invocation performs (a fused multiply-add counts as 2).</summary>
    double Flops { get; }

    /// <summary>Bytes one invocation reads.</summary>
    double Bytes { get; }
}

/// <summary>
/// The work of ONE training or inference sample, when it depends on a <c>[Params]</c>/<c>[ParamsSource]</c> value (a
/// network shape) but the number of samples depends on the method (a slow baseline may run fewer). Read by
/// <see cref="ThroughputColumn"/> for methods whose <see cref="WorkAttribute.Samples"/> is set: the work of an
/// invocation is that many samples times this.
/// </summary>
public interface ISampleWork
{
    /// <summary>Floating-point operations per sample (a fused multiply-add counts as 2).</summary>
    double FlopsPerSample { get; }

    /// <summary>
    /// Bytes moved per sample (read, plus written where the estimate says so). Only reported for methods that set
    /// <see cref="WorkAttribute.SampleBytes"/>, since the traffic depends on the algorithm, not just the shape.
    /// </summary>
    double BytesPerSample { get; }
}

/// <summary>
/// An inference shape whose benchmark rows stream different bytes per sample: the weights at the row's precision
/// (<see cref="WorkAttribute.BytesPerWeight"/>) plus the input.
/// </summary>
public interface IInferenceWork : ISampleWork
{
    /// <summary>Bytes one sample reads when every weight is read once at <paramref name="bytesPerWeight"/> bytes, plus its input.</summary>
    double BytesPerSampleAt(int bytesPerWeight);
}

/// <summary>
/// The work ONE invocation of the benchmark method does, when it does not depend on the parameters. When the method
/// also sets <c>OperationsPerInvoke</c>, still give the work of the whole invocation: the columns divide it out.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class WorkAttribute : Attribute
{
    /// <summary>Floating-point operations per invocation (a fused multiply-add counts as 2).</summary>
    public double Flops { get; set; }

    /// <summary>Bytes read per invocation.</summary>
    public double Bytes { get; set; }

    /// <summary>Training or inference samples processed per invocation.</summary>
    public double Samples { get; set; }

    /// <summary>
    /// With <see cref="Samples"/>: report GB/s as <see cref="Samples"/> times the <see cref="ISampleWork.BytesPerSample"/>
    /// of the benchmark's parameter (for the one algorithm whose memory traffic that estimate describes).
    /// </summary>
    public bool SampleBytes { get; set; }

    /// <summary>
    /// With <see cref="Samples"/>: report GB/s as <see cref="Samples"/> times the <see cref="IInferenceWork.BytesPerSampleAt"/>
    /// of the benchmark's parameter at this many bytes per weight (4 for float32 rows, 1 for int8 rows).
    /// </summary>
    public int BytesPerWeight { get; set; }
}

internal static class WorkOf
{
    /// <summary>The work of one invocation of <paramref name="benchmark"/> in <paramref name="unit"/>, or 0 when unknown.</summary>
    public static double PerInvocation(BenchmarkCase benchmark, ThroughputUnit unit)
    {
        var attribute = (WorkAttribute?)Attribute.GetCustomAttribute(benchmark.Descriptor.WorkloadMethod, typeof(WorkAttribute));
        double fromAttribute = unit switch
        {
            ThroughputUnit.GigaflopsPerSecond => attribute?.Flops ?? 0,
            ThroughputUnit.GigabytesPerSecond => attribute?.Bytes ?? 0,
            _ => attribute?.Samples ?? 0,
        };
        if (fromAttribute > 0 || unit == ThroughputUnit.SamplesPerSecond)
        {
            return fromAttribute;
        }

        if (unit == ThroughputUnit.GigaflopsPerSecond && attribute is { Bytes: > 0 })
        {
            return 0; // a method that counts its bytes by hand counts its flops by hand too (a pure read has none)
        }

        double fromParameters = 0;
        foreach (var parameter in benchmark.Parameters.Items)
        {
            if (parameter.Value is IWork work)
            {
                fromParameters += unit == ThroughputUnit.GigaflopsPerSecond ? work.Flops : work.Bytes;
            }
            else if (parameter.Value is ISampleWork sample && attribute is { Samples: > 0 })
            {
                fromParameters += unit == ThroughputUnit.GigaflopsPerSecond ? attribute.Samples * sample.FlopsPerSample
                    : attribute.BytesPerWeight > 0 && sample is IInferenceWork inference ? attribute.Samples * inference.BytesPerSampleAt(attribute.BytesPerWeight)
                    : attribute.SampleBytes ? attribute.Samples * sample.BytesPerSample : 0;
            }
        }

        return fromParameters;
    }
}
