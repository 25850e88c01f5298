namespace Backprop.Simd;

/// <summary>
/// When to ask <c>Gemm.Multiply</c> to look for zero inputs. Scanning costs a pass over the inputs
/// before the product, and on inputs that are never zero it finds nothing to skip, so after a call that found no
/// sparse block the next scan waits 1 call, then 2, 4, ... up to <see cref="MaxWait"/>; a call that found one brings
/// scanning back to every call. Skipping changes no result, so neither does this policy: only the time.
/// </summary>
internal struct ZeroSkipping
{
    /// <summary>The longest wait, in calls, between two scans.</summary>
    public const int MaxWait = 64;

    private int _wait;    // calls to go before the next scan
    private int _backoff; // the wait after the next dense scan

    /// <summary>Whether zero inputs may be skipped at all (exact only while the other factor is finite).</summary>
    public bool Enabled;

    /// <summary>Whether the next call should scan (counts it when not).</summary>
    public bool Scan()
    {
        if (!Enabled)
        {
            return false;
        }

        if (_wait > 0)
        {
            _wait--;
            return false;
        }

        return true;
    }

    /// <summary>Records what a scan found; returns <paramref name="sparse"/>.</summary>
    public bool Found(bool sparse)
    {
        _backoff = sparse ? 0 : Math.Min(Math.Max(1, 2 * _backoff), MaxWait);
        _wait = _backoff;
        return sparse;
    }

    /// <summary>Consumes the return value of a scanning <c>Gemm.Multiply</c>: the blocks it found sparse.</summary>
    public void Record(int sparseBlocks) => Found(sparseBlocks > 0);
}
