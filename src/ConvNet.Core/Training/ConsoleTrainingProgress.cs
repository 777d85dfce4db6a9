namespace ConvNet;

/// <summary>
/// Keras-style console output of <c>Fit</c> (<c>verbose</c> 1: the current epoch's line rewritten after every batch;
/// 2: one line per epoch). Callback messages are printed on their own line.
/// </summary>
internal sealed class ConsoleTrainingProgress(TextWriter output, int verbose) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value)
    {
        switch (value.Kind)
        {
            case ProgressKind.BatchEnd when verbose == 1:
                output.Write("\r" + value);
                if (value.Batch == value.Batches) output.Flush();
                break;
            case ProgressKind.EpochEnd:
                output.WriteLine((verbose == 1 ? "\r" : "") + value);
                break;
            case ProgressKind.Message:
                output.WriteLine(value.Message);
                break;
        }
    }
}
