using System.Runtime.CompilerServices;

namespace Backprop.Simd.Kernels;

// What the strided kernel does with each sum t: C = alpha t + beta C. With beta = 0, C is only written (t itself when
// alpha = 1); otherwise C = (C beta) + (alpha t), unfused and in that order: the bits of a separate SGD step on a
// stored t. beta = 1 (SGD without weight decay) skips the multiplication by it, which changes no bit: C * 1 is C.
internal static partial class Gemm
{
    /// <summary>The epilogue as the callers give it; <see cref="Strided{TV}"/> picks the compiled kind from it.</summary>
    private readonly record struct Epilogue(float Alpha, float Beta, bool Resume = false);

    // One kind of epilogue, a struct type argument of the tiles: the JIT compiles each kind without branches. With the
    // kind in runtime flags, the twelve Apply calls of SixRows outgrew the JIT's inlining budget and the last one
    // became calls to the vector wrappers, its vectors spilled through the stack, once per tile.
    private interface IEpilogue
    {
        /// <summary>Whether the chains start from what C holds (a later block of s, or an accumulating product).</summary>
        static abstract bool Resumes { get; }

        /// <summary>The value stored for the sum <paramref name="t"/> where C holds <c>c[offset]</c>.</summary>
        TV Finish<TV>(TV t, ref float c, nuint offset)
            where TV : struct, ISimd<TV>;

        float Finish(float t, float old);
    }

    /// <summary>C = t.</summary>
    private readonly struct Sums : IEpilogue
    {
        public static bool Resumes => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Finish<TV>(TV t, ref float c, nuint offset)
            where TV : struct, ISimd<TV> => t;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Finish(float t, float old) => t;
    }

    /// <summary>C = t, the chains continuing from the partial sums C holds: exactly the bits of one unbroken chain.</summary>
    private readonly struct ResumedSums : IEpilogue
    {
        public static bool Resumes => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Finish<TV>(TV t, ref float c, nuint offset)
            where TV : struct, ISimd<TV> => t;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Finish(float t, float old) => t;
    }

    /// <summary>C = alpha t.</summary>
    private readonly struct Scaled(float alpha) : IEpilogue
    {
        public static bool Resumes => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Finish<TV>(TV t, ref float c, nuint offset)
            where TV : struct, ISimd<TV> => TV.Multiply(TV.Broadcast(alpha), t);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Finish(float t, float old) => alpha * t;
    }

    /// <summary>C = (C beta) + (alpha t).</summary>
    private readonly struct Folded(float alpha, float beta) : IEpilogue
    {
        public static bool Resumes => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Finish<TV>(TV t, ref float c, nuint offset)
            where TV : struct, ISimd<TV> => TV.Add(TV.Multiply(TV.Load(ref c, offset), TV.Broadcast(beta)), TV.Multiply(TV.Broadcast(alpha), t));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Finish(float t, float old) => (old * beta) + (alpha * t);
    }

    /// <summary>C = C + (alpha t): <see cref="Folded"/> with beta = 1.</summary>
    private readonly struct FoldedUnit(float alpha) : IEpilogue
    {
        public static bool Resumes => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Finish<TV>(TV t, ref float c, nuint offset)
            where TV : struct, ISimd<TV> => TV.Add(TV.Load(ref c, offset), TV.Multiply(TV.Broadcast(alpha), t));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Finish(float t, float old) => old + (alpha * t);
    }

    /// <summary>The tiles' side of an epilogue of kind <typeparamref name="TE"/>: where chains start and what is stored.</summary>
    private readonly struct Epilogue<TE>(TE kind)
        where TE : struct, IEpilogue
    {
        private readonly TE _kind = kind;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Start<TV>(ref float c, int offset)
            where TV : struct, ISimd<TV> => TE.Resumes ? TV.Load(ref c, (nuint)offset) : TV.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Start(ref float c) => TE.Resumes ? c : 0f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply<TV>(TV t, ref float c, int offset)
            where TV : struct, ISimd<TV> => TV.Store(_kind.Finish(t, ref c, (nuint)offset), ref c, (nuint)offset);

        // Apply in the lanes of `lanes` only; the others keep what an earlier vector of the row stored there.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void ApplyTail<TV>(TV t, ref float c, int offset, TV lanes)
            where TV : struct, ISimd<TV> => TV.Store(TV.Select(lanes, _kind.Finish(t, ref c, (nuint)offset), TV.Load(ref c, (nuint)offset)), ref c, (nuint)offset);

        // A row's one whole vector at `offset` and its tail vector at `tailOffset`, which overlaps it below the tail's
        // lanes: both read C before either is stored, the tail stored first, so that the overlap ends with the whole
        // vector's values and no load waits on a store it half overlaps. The same values as Apply then ApplyTail.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void ApplyWithTail<TV>(TV t, TV tailT, ref float c, int offset, int tailOffset, TV lanes)
            where TV : struct, ISimd<TV>
        {
            TV whole = _kind.Finish(t, ref c, (nuint)offset);
            TV tail = TV.Select(lanes, _kind.Finish(tailT, ref c, (nuint)tailOffset), TV.Load(ref c, (nuint)tailOffset));
            TV.Store(tail, ref c, (nuint)tailOffset);
            TV.Store(whole, ref c, (nuint)offset);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(float t, ref float c) => c = _kind.Finish(t, c);
    }
}
