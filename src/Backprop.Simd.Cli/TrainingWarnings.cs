using System.Globalization;

namespace Backprop.Simd.Cli;

/// <summary>
/// Watches a training run for the two signs that it has gone wrong without failing outright, and says so once each
/// as a line starting with <c>warning:</c> (training goes on, the exit code stays 0): the accuracy on the evaluation
/// data at chance level after the first epoch (at most <see cref="ChanceFactor"/> times 1 / classes), and, when the
/// cost is monitored, a training cost that grew for <see cref="GrowingEpochs"/> epochs running.
/// </summary>
internal sealed class TrainingWarnings(int classes, string evaluationName)
{
    /// <summary>How far above pure guessing an accuracy still counts as chance level.</summary>
    public const double ChanceFactor = 1.5;

    /// <summary>Epochs in a row the training cost must grow before it is reported.</summary>
    public const int GrowingEpochs = 3;

    private bool _chanceReported, _costReported;
    private int _growing;
    private double _previousCost = double.NaN, _costBeforeGrowth = double.NaN;

    /// <summary>The warnings the end of an epoch gives, if any.</summary>
    /// <param name="epoch">The epoch, 0-based.</param>
    /// <param name="correct">Evaluation samples classified correctly after it.</param>
    /// <param name="total">Evaluation samples.</param>
    /// <param name="trainingCost">The cost on the training data, or null when it is not monitored.</param>
    public IEnumerable<string> After(int epoch, int correct, int total, double? trainingCost)
    {
        var warnings = new List<string>();
        if (!_chanceReported && epoch >= 1 && total > 0 && (double)correct / total <= ChanceFactor / classes)
        {
            _chanceReported = true;
            warnings.Add(
                $"warning: after epoch {epoch} the accuracy on the {evaluationName} data is {100.0 * correct / total:F2}% ({correct} / {total}), " +
                $"no better than guessing among {classes} classes: the network is not learning; try another --eta (too large a step collapses training, too small a one stalls it).");
        }

        if (trainingCost is double cost && !_costReported)
        {
            if (cost > _previousCost)
            {
                if (_growing == 0)
                {
                    _costBeforeGrowth = _previousCost;
                }

                _growing++;
            }
            else
            {
                _growing = 0;
            }

            _previousCost = cost;
            if (_growing >= GrowingEpochs)
            {
                _costReported = true;
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"warning: the cost on the training data has grown for {_growing} epochs running (from {_costBeforeGrowth:F6} to {cost:F6} after epoch {epoch}): training is diverging; try a smaller --eta."));
            }
        }

        return warnings;
    }
}
