using Backprop.Simd.Data;

namespace Backprop.Simd.Runtime;

/// <summary>
/// Counts the samples a copy of a network classifies correctly, on a thread of its own, while the caller goes on
/// training the network (<see cref="TrainingOptions.EvaluateWhileTraining"/>): one evaluation at a time, begun by
/// <see cref="Start"/> and collected by <see cref="Finish"/>. The copy, the thread and the inference arenas are
/// made once (with room for widening a block of byte inputs), so an evaluation allocates nothing; its count is the
/// one <see cref="BatchInference.Evaluate"/> gives. Dispose it to end the thread.
/// </summary>
internal sealed class BackgroundEvaluation : IDisposable
{
    private readonly Network _copy;
    private readonly BatchInference _inference; // one thread: this class's own
    private readonly Thread _thread;
    private readonly object _gate = new();
    private Dataset? _data;    // the evaluation asked for, until the thread takes it
    private bool _running;     // started and not yet collected
    private bool _done;
    private int _correct;
    private Exception? _failure;
    private bool _disposed;

    public BackgroundEvaluation(Network network)
    {
        _copy = network.Clone();
        _inference = new BatchInference(_copy);
        _inference.ReserveWidening(); // evaluation data may be bytes even when the training data are not

        _thread = new Thread(Loop) { IsBackground = true, Name = "Backprop.Simd evaluation" };
        _thread.Start();
    }

    /// <summary>Bytes that the copy and the inference arenas take for <paramref name="network"/>.</summary>
    public static Int128 RequiredBytes(Network network) =>
        (2 * (Int128)network.ParameterCount * sizeof(float))
        + Workspace.RequiredBytes(network.Layout, BatchInference.DefaultBlockSize)
        + ((Int128)BatchInference.DefaultBlockSize * network.InputSize * sizeof(float));

    /// <summary>Whether an evaluation has been started and not yet collected.</summary>
    public bool Running => _running;

    /// <summary>Copies <paramref name="network"/>'s parameters (the caller may change them as soon as this returns) and
    /// starts evaluating them on <paramref name="data"/>, which must fit the network and stay unchanged until <see cref="Finish"/>.</summary>
    /// <exception cref="ObjectDisposedException">The thread has been ended.</exception>
    public void Start(Network network, Dataset data)
    {
        System.Diagnostics.Debug.Assert(!_running, "one evaluation at a time");
        ObjectDisposedException.ThrowIf(_disposed, this); // no thread would take the work
        _copy.SetParameters(network.Parameters);
        lock (_gate)
        {
            (_data, _done, _failure, _running) = (data, false, null, true);
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>Waits for the evaluation begun by <see cref="Start"/> and returns its count of correct samples;
    /// rethrows what the evaluation threw.</summary>
    public int Finish()
    {
        lock (_gate)
        {
            while (!_done)
            {
                Monitor.Wait(_gate);
            }

            _running = false;
            if (_failure is { } failure)
            {
                _failure = null;
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }

            return _correct;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Monitor.Pulse(_gate);
        }

        _thread.Join();
        _inference.Dispose();
    }

    private void Loop()
    {
        while (true)
        {
            Dataset data;
            lock (_gate)
            {
                while (_data is null && !_disposed)
                {
                    Monitor.Wait(_gate);
                }

                if (_disposed)
                {
                    return;
                }

                (data, _data) = (_data!, null);
            }

            int correct = 0;
            Exception? failure = null;
            try
            {
                correct = _inference.Evaluate(data);
            }
            catch (Exception e)
            {
                failure = e;
            }

            lock (_gate)
            {
                (_correct, _failure, _done) = (correct, failure, true);
                Monitor.PulseAll(_gate);
            }
        }
    }
}
