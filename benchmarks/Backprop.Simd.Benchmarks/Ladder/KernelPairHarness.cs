using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using Backprop.Simd.Benchmarks.Infrastructure;

namespace Backprop.Simd.Benchmarks.Ladder;

/// <summary>
/// Two builds of the library's matrix products timed call by call in one process:
/// <c>dotnet run -c Release --project benchmarks/Backprop.Simd.Benchmarks -- --kernel-pairs A.dll B.dll [--calls N] [--shapes m:n:k,...]</c>,
/// or <c>scripts/compare-builds.sh --kernels OLD_REF NEW_REF</c>, which builds both refs and runs it.
/// </summary>
/// <remarks>
/// A change of a few percent in one kernel drowns in a shared machine's drift between processes, and even between
/// BenchmarkDotNet's runs of two methods. Here each build's <c>Backprop.Simd.dll</c> is loaded into its own
/// <see cref="AssemblyLoadContext"/>, and for each product and shape the two builds' calls alternate (A then B, then B
/// then A) on equal operands, each call timed alone, after a second of untimed alternating calls (the JIT's tiers
/// settle). The products are the three of a training step (<c>Gemm</c>, read by reflection): the forward
/// <c>Z = X W^T + b</c>, BP2's <c>Delta X' = Delta W</c> and the folded SGD step <c>W = W + alpha Delta^T X</c>, with
/// X m x k, W n x k and Delta m x n. Afterwards each pair of outputs is compared bit for bit (the step's W after all
/// the calls); a build meant to keep every sum's order must give the same bits, and the exit code is 1 when any pair
/// differs. The table gives each side's 10th percentile and median call, the ratio of the medians and B's GFLOP/s.
/// </remarks>
public static class KernelPairHarness
{
    /// <summary>The command-line switch that selects this harness; the two assembly paths follow it.</summary>
    public const string Switch = "--kernel-pairs";

    /// <summary>Default timed calls per side, product and shape.</summary>
    public const int DefaultCalls = 400;

    private const double WarmUpSeconds = 1.0;

    /// <summary>Largest operand, in floats (256 MB).</summary>
    private const long MaxOperandFloats = 64 << 20;

    private delegate void Forward(ReadOnlySpan<float> a, ReadOnlySpan<int> aRows, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, Span<float> c,
        int m, int n, int k, int jStart, int jEnd);

    private delegate void Strided(ReadOnlySpan<float> lhs, int rowStride, int sumStride, ReadOnlySpan<float> r, ReadOnlySpan<int> rRows, Span<float> c,
        int rows, int sums, int cols, int rStart, int rEnd, float alpha, float beta);

    private static readonly (int M, int N, int K)[] DefaultShapes = [(100, 1024, 1024), (100, 1024, 784), (100, 100, 784), (10, 30, 784)];

    /// <summary>Runs the harness; returns the process exit code (1 when a pair's bits differ, 2 for a bad argument).</summary>
    public static int Run(string[] args)
    {
        int at = Array.IndexOf(args, Switch);
        if (at < 0 || at + 2 >= args.Length || !File.Exists(args[at + 1]) || !File.Exists(args[at + 2]))
        {
            Console.Error.WriteLine($"{Switch} needs the paths of two builds' Backprop.Simd.dll.");
            return 2;
        }

        if (!HarnessArguments.TryCount(args, "--calls", DefaultCalls, minimum: 10, out int calls) || !TryShapes(args, out var shapes))
        {
            return 2;
        }

        Forward forwardA, forwardB;
        Strided stridedA, stridedB;
        try
        {
            (forwardA, stridedA) = Load(args[at + 1], "A");
            (forwardB, stridedB) = Load(args[at + 2], "B");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or BadImageFormatException or TypeLoadException or IOException)
        {
            Console.Error.WriteLine($"{Switch}: a build without Gemm.MultiplyTransposed and Gemm.MultiplyStrided as this harness calls them ({e.Message}).");
            return 2;
        }

        Console.WriteLine("VectorInfo: " + MachineInfo.Describe());
        Console.WriteLine($"A = {args[at + 1]}");
        Console.WriteLine($"B = {args[at + 2]}");
        Console.WriteLine($"{calls} timed calls per side, alternating, after {WarmUpSeconds:0.#} s of untimed ones; DOTNET_TieredCompilation = " +
            (Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") ?? "unset") + ":");
        Console.WriteLine();
        Console.WriteLine("| Product | Shape | A, p10 | A, median | B, p10 | B, median | B / A, median | B, GFLOP/s | Same bits |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---|");
        bool allSame = true;
        foreach (var (m, n, k) in shapes)
        {
            Memory<float> x = Filled(m * k, 1, 0f, 1f), w = Filled(n * k, 2, -0.05f, 0.05f), bias = Filled(n, 3, -1f, 1f);
            Memory<float> delta = Filled(m * n, 4, -0.01f, 0.01f);
            Memory<float> wA = Filled(n * k, 2, -0.05f, 0.05f), wB = Filled(n * k, 2, -0.05f, 0.05f);
            Memory<float> zA = OnCacheLine(m * n), zB = OnCacheLine(m * n), dxA = OnCacheLine(m * k), dxB = OnCacheLine(m * k);
            float alpha = -0.01f / m;
            string shape = $"m={m} {n}x{k}";
            allSame &= Pair("forward", shape, m, n, k, calls, zA, zB,
                () => forwardA(x.Span, default, w.Span, bias.Span, zA.Span, m, n, k, 0, n), () => forwardB(x.Span, default, w.Span, bias.Span, zB.Span, m, n, k, 0, n));
            allSame &= Pair("BP2", shape, m, n, k, calls, dxA, dxB,
                () => stridedA(delta.Span, n, 1, w.Span, default, dxA.Span, m, n, k, 0, m, 1f, 0f), () => stridedB(delta.Span, n, 1, w.Span, default, dxB.Span, m, n, k, 0, m, 1f, 0f));
            allSame &= Pair("folded step", shape, m, n, k, calls, wA, wB,
                () => stridedA(delta.Span, 1, n, x.Span, default, wA.Span, n, m, k, 0, n, alpha, 1f), () => stridedB(delta.Span, 1, n, x.Span, default, wB.Span, n, m, k, 0, n, alpha, 1f));
        }

        return allSame ? 0 : 1;
    }

    // One product on one shape: untimed alternating calls, then timed ones; prints its row; whether the outputs match.
    private static bool Pair(string product, string shape, int m, int n, int k, int calls, Memory<float> outA, Memory<float> outB, Action a, Action b)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; clock.Elapsed.TotalSeconds < WarmUpSeconds || i < 20; i++)
        {
            a();
            b();
        }

        var timesA = new double[calls];
        var timesB = new double[calls];
        for (int i = 0; i < calls; i++)
        {
            if ((i & 1) == 0)
            {
                timesA[i] = Time(a);
                timesB[i] = Time(b);
            }
            else
            {
                timesB[i] = Time(b);
                timesA[i] = Time(a);
            }
        }

        Array.Sort(timesA);
        Array.Sort(timesB);
        double medianA = HarnessArguments.Quantile(timesA, 0.5), medianB = HarnessArguments.Quantile(timesB, 0.5);
        bool same = MemoryMarshal.AsBytes(outA.Span).SequenceEqual(MemoryMarshal.AsBytes(outB.Span));
        double gflops = 2.0 * m * n * k / (medianB * 1e3);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {product} | {shape} | {HarnessArguments.Quantile(timesA, 0.1):F1} us | {medianA:F1} us | {HarnessArguments.Quantile(timesB, 0.1):F1} us | {medianB:F1} us | {medianB / medianA:F3} | {gflops:F0} | {(same ? "yes" : "**no**")} |"));
        return same;
    }

    // Microseconds of one call.
    private static double Time(Action call)
    {
        long start = Stopwatch.GetTimestamp();
        call();
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    // The two products of one build, from its own load context.
    private static (Forward Forward, Strided Strided) Load(string path, string name)
    {
        Assembly assembly = new AssemblyLoadContext(name).LoadFromAssemblyPath(Path.GetFullPath(path));
        Type gemm = assembly.GetType("Backprop.Simd.Kernels.Gemm", throwOnError: true)!;
        MethodInfo[] methods = gemm.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic);
        MethodInfo forward = methods.Single(method => method.Name == "MultiplyTransposed" && Matches<Forward>(method));
        MethodInfo strided = methods.Single(method => method.Name == "MultiplyStrided" && Matches<Strided>(method));
        return (forward.CreateDelegate<Forward>(), strided.CreateDelegate<Strided>());
    }

    private static bool Matches<TDelegate>(MethodInfo method) =>
        method.GetParameters().Select(p => p.ParameterType)
            .SequenceEqual(typeof(TDelegate).GetMethod("Invoke")!.GetParameters().Select(p => p.ParameterType));

    // count floats drawn from [low, high) by a seeded generator, on cache lines.
    private static Memory<float> Filled(int count, int seed, float low, float high)
    {
        var random = new Random(seed);
        Memory<float> values = OnCacheLine(count);
        Span<float> span = values.Span;
        for (int i = 0; i < count; i++)
        {
            span[i] = low + ((high - low) * random.NextSingle());
        }

        return values;
    }

    // count zeros starting on a 64-byte line, as the library's arenas and parameters do (a product of rows that
    // start mid-line splits every vector load in two); pinned, so that the line stays the line.
    private static unsafe Memory<float> OnCacheLine(int count)
    {
        float[] array = GC.AllocateArray<float>(count + 15, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return array.AsMemory((int)(((64 - (address & 63)) & 63) / sizeof(float)), count);
    }

    // --shapes m:n:k,...: the shapes to time (X m x k, W n x k), or the default four.
    private static bool TryShapes(string[] args, out (int M, int N, int K)[] shapes)
    {
        shapes = DefaultShapes;
        int at = Array.IndexOf(args, "--shapes");
        if (at < 0)
        {
            return true;
        }

        var parsed = new List<(int, int, int)>();
        foreach (string item in at + 1 < args.Length ? args[at + 1].Split(',') : [])
        {
            int[] sizes = item.Split(':').Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : -1).ToArray();
            if (sizes.Length != 3 || sizes.Any(v => v < 0) || Math.Max((long)sizes[0], sizes[1]) * Math.Max(sizes[0], sizes[2]) > MaxOperandFloats)
            {
                parsed.Clear();
                break;
            }

            parsed.Add((sizes[0], sizes[1], sizes[2]));
        }

        if (parsed.Count == 0)
        {
            Console.Error.WriteLine("--shapes needs m:n:k triples of positive whole numbers, comma-separated (m n, m k and n k at most 64 Mi floats each).");
            return false;
        }

        shapes = [.. parsed];
        return true;
    }
}
