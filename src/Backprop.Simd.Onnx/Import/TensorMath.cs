using S = Backprop.Simd.Onnx.Protobuf.OnnxSchema;

namespace Backprop.Simd.Onnx.Import;

/// <summary>The computations of <see cref="ConstantEvaluator"/> on tensor values, and numpy-style broadcasting.</summary>
internal static class TensorMath
{
    /// <summary>The dims of <paramref name="a"/> and <paramref name="b"/> broadcast together (numpy's rule), or null.</summary>
    public static long[]? Broadcast(long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var dims = new long[rank];
        for (int i = 1; i <= rank; i++)
        {
            long x = i <= a.Length ? a[^i] : 1, y = i <= b.Length ? b[^i] : 1;
            if (x != y && x != 1 && y != 1)
            {
                return null;
            }

            dims[rank - i] = x == 1 ? y : x;
        }

        return dims;
    }

    /// <summary>For each element of a tensor of <paramref name="result"/> dims, row-major, the index of the element of
    /// a tensor of <paramref name="source"/> dims that broadcasting puts there.</summary>
    public static int[] SourceIndices(long[] source, long[] result)
    {
        int count = (int)ConstTensor.CountOf(result);
        var strides = new long[result.Length]; // the source's stride along each result dimension, 0 where it repeats
        long stride = 1;
        for (int i = 1; i <= source.Length; i++)
        {
            strides[^i] = source[^i] == 1 ? 0 : stride;
            stride *= source[^i];
        }

        var indices = new int[count];
        var position = new long[result.Length];
        long at = 0;
        for (int e = 0; e < count; e++)
        {
            indices[e] = (int)at;
            for (int d = result.Length - 1; d >= 0; d--)
            {
                at += strides[d];
                if (++position[d] < result[d])
                {
                    break;
                }

                at -= strides[d] * position[d];
                position[d] = 0;
            }
        }

        return indices;
    }

    public static ConstTensor Transpose(ConstTensor x, string origin)
    {
        int rows = (int)x.Dims[0], cols = (int)x.Dims[1];
        var picks = new int[x.Count];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                picks[(c * rows) + r] = (r * cols) + c;
            }
        }

        return Pick(x, picks, [cols, rows], origin);
    }

    /// <summary>A tensor of <paramref name="dims"/> whose element i is element <paramref name="picks"/>[i] of <paramref name="x"/>.</summary>
    public static ConstTensor Pick(ConstTensor x, int[] picks, long[] dims, string origin) => x switch
    {
        { Floats: { } f } => ConstTensor.OfFloats(dims, [.. picks.Select(i => f[i])], origin),
        { Doubles: { } d } => ConstTensor.OfDoubles(dims, [.. picks.Select(i => d[i])], origin),
        _ => ConstTensor.OfIntegers(x.Type, dims, [.. picks.Select(i => x.Integers![i])], origin),
    };

    public static ConstTensor Concat(ConstTensor[] parts, long axis, string origin, Constants constants)
    {
        ConstTensor first = parts[0];
        int rank = first.Dims.Length;
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank || parts.Any(p => p.Type != first.Type || p.Dims.Length != rank || Enumerable.Range(0, rank).Any(d => d != a && p.Dims[d] != first.Dims[d])))
        {
            throw new CannotEvaluateException($"it joins tensors of dims {string.Join(" and ", parts.Select(p => Failures.Dims(p.Dims)))} (of one type) along axis {axis}, which do not fit");
        }

        long total = parts.Sum(p => (long)p.Count);
        constants.Reserve(total, origin);
        long[] dims = [.. first.Dims];
        dims[a] = parts.Sum(p => p.Dims[a]);
        long outer = ConstTensor.CountOf(first.Dims.AsSpan(0, (int)a));
        var picks = new List<(int Part, int Index)>((int)total);
        for (long o = 0; o < outer; o++)
        {
            for (int p = 0; p < parts.Length; p++)
            {
                long block = ConstTensor.CountOf(parts[p].Dims.AsSpan((int)a));
                for (long i = 0; i < block; i++)
                {
                    picks.Add((p, (int)((o * block) + i)));
                }
            }
        }

        return first switch
        {
            { Floats: not null } => ConstTensor.OfFloats(dims, [.. picks.Select(p => parts[p.Part].Floats![p.Index])], origin),
            { Doubles: not null } => ConstTensor.OfDoubles(dims, [.. picks.Select(p => parts[p.Part].Doubles![p.Index])], origin),
            _ => ConstTensor.OfIntegers(first.Type, dims, [.. picks.Select(p => parts[p.Part].Integers![p.Index])], origin),
        };
    }

    public static ConstTensor Cast(ConstTensor x, int to, string origin, Constants constants)
    {
        constants.Reserve(x.Count, origin);
        switch (to)
        {
            case S.DataType.Float:
                return ConstTensor.OfFloats(x.Dims, x.Floats ?? [.. Enumerable.Range(0, x.Count).Select(i => (float)Known(x, i))], origin);
            case S.DataType.Double:
                return ConstTensor.OfDoubles(x.Dims, x.Doubles ?? [.. Enumerable.Range(0, x.Count).Select(i => Known(x, i))], origin);
            case S.DataType.Int64 or S.DataType.Int32 or S.DataType.Bool:
                var values = new long[x.Count];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = x.Integers is { } integers
                        ? (to == S.DataType.Bool ? (integers[i] == 0 ? 0 : 1) : integers[i] == ConstTensor.Batch || to == S.DataType.Int64 ? integers[i] : (int)integers[i])
                        : ToInteger(Known(x, i), to);
                }

                return ConstTensor.OfIntegers(to, x.Dims, values, origin);
            default:
                throw new CannotEvaluateException($"it casts to data_type {S.DataType.Describe(to)}");
        }
    }

    private static double Known(ConstTensor x, int i)
    {
        double value = x.Real(i);
        return !double.IsNaN(value) || x.Floats is not null || x.Doubles is not null ? value : throw new CannotEvaluateException("it computes with the batch size N, which is not known before the model runs");
    }

    private static long ToInteger(double value, int to)
    {
        if (to == S.DataType.Bool)
        {
            return value != 0 ? 1 : 0;
        }

        double truncated = Math.Truncate(value);
        double limit = to == S.DataType.Int32 ? int.MaxValue : 9.2e18;
        return double.IsFinite(truncated) && Math.Abs(truncated) <= limit ? (long)truncated : throw new CannotEvaluateException($"{value} has no integer value");
    }

    /// <summary><c>Add</c>, <c>Sub</c>, <c>Mul</c> or <c>Div</c> of two tensors of one type, with broadcasting.</summary>
    public static ConstTensor Elementwise(string op, ConstTensor a, ConstTensor b, string origin, Constants constants)
    {
        long[] dims = a.Type == b.Type ? Broadcast(a.Dims, b.Dims) ?? throw new CannotEvaluateException($"dims {Failures.Dims(a.Dims)} and {Failures.Dims(b.Dims)} do not broadcast")
            : throw new CannotEvaluateException($"its inputs have data_types {S.DataType.Describe(a.Type)} and {S.DataType.Describe(b.Type)}");
        long count = ConstTensor.CountOf(dims);
        if (count < 0)
        {
            throw new CannotEvaluateException($"dims {Failures.Dims(a.Dims)} and {Failures.Dims(b.Dims)} broadcast to more values than the importer accepts");
        }

        constants.Reserve(count * 3, origin);
        int[] ia = SourceIndices(a.Dims, dims), ib = SourceIndices(b.Dims, dims);
        if (a.Floats is { } fa)
        {
            float[] fb = b.Floats!;
            return ConstTensor.OfFloats(dims, [.. ia.Select((x, i) => Apply(op, fa[x], fb[ib[i]]))], origin);
        }

        if (a.Doubles is { } da)
        {
            double[] db = b.Doubles!;
            return ConstTensor.OfDoubles(dims, [.. ia.Select((x, i) => Apply(op, da[x], db[ib[i]]))], origin);
        }

        return ConstTensor.OfIntegers(a.Type, dims, [.. ia.Select((x, i) => Apply(op, a.Integers![x], b.Integers![ib[i]]))], origin);
    }

    private static float Apply(string op, float x, float y) => op switch { "Add" => x + y, "Sub" => x - y, "Mul" => x * y, _ => x / y };

    private static double Apply(string op, double x, double y) => op switch { "Add" => x + y, "Sub" => x - y, "Mul" => x * y, _ => x / y };

    private static long Apply(string op, long x, long y)
    {
        if (x == ConstTensor.Batch || y == ConstTensor.Batch)
        {
            throw new CannotEvaluateException("it computes with the batch size N, which is not known before the model runs");
        }

        try
        {
            long result = checked(op switch { "Add" => x + y, "Sub" => x - y, "Mul" => x * y, _ => y == 0 ? throw new CannotEvaluateException("it divides by zero") : x / y });
            return result != ConstTensor.Batch ? result : throw new OverflowException();
        }
        catch (OverflowException)
        {
            throw new CannotEvaluateException("the result overflows int64");
        }
    }
}
