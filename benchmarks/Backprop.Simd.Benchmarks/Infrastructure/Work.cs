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

        double fromParameters = 0;
        foreach (var parameter in benchmark.Parameters.Items)
        {
            if (parameter.Value is IWork work)
            {
                fromParameters += unit == ThroughputUnit.GigaflopsPerSecond ? work.Flops : work.Bytes;
            }
        }

        return fromParameters;
    }
}
