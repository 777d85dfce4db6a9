namespace ConvNet.Demo;

/// <summary>Per-image results on the evaluation set: predictions, confidence, mistakes, per-class accuracy.</summary>
internal sealed record Analysis(int[] Predicted, double[] Confidence, bool[] Correct, IReadOnlyList<Plots.Mistake> Mistakes, IReadOnlyList<int> MistakeIndices)
{
    /// <summary>Analyses softmax probabilities (N, classes) of <paramref name="set"/>; examples of guessed classes come from <paramref name="train"/>.</summary>
    public static Analysis Of(Tensor probabilities, Dataset set, Dataset? train, IReadOnlyList<string> classNames)
    {
        int n = set.Count, classes = probabilities.Shape[-1], per = set.X.Length / Math.Max(1, n);
        var predicted = new int[n];
        var confidence = new double[n];
        var correct = new bool[n];
        var mistakes = new List<Plots.Mistake>();
        var indices = new List<int>();
        var span = probabilities.Span;
        for (int i = 0; i < n; i++)
        {
            var row = span.Slice(i * classes, classes);
            predicted[i] = Accuracy.ArgMax(row);
            confidence[i] = row[predicted[i]];
            correct[i] = predicted[i] == set.Y[i];
            if (correct[i]) continue;
            float[]? example = null;
            if (train is not null)
            {
                int j = Array.IndexOf(train.Y, predicted[i]);
                if (j >= 0) example = train.X.Span.Slice(j * per, per).ToArray();
            }
            mistakes.Add(new Plots.Mistake(set.X.Span.Slice(i * per, per).ToArray(), classNames[predicted[i]], classNames[set.Y[i]], example));
            indices.Add(i);
        }
        return new Analysis(predicted, confidence, correct, mistakes, indices);
    }

    /// <summary>(class, images, correct) for every class that has images, in class order.</summary>
    public IEnumerable<(int Class, int Count, int Right)> PerClass(Dataset set, int classes)
    {
        var count = new int[classes];
        var right = new int[classes];
        for (int i = 0; i < set.Count; i++)
        {
            count[set.Y[i]]++;
            if (Correct[i]) right[set.Y[i]]++;
        }
        for (int k = 0; k < classes; k++)
            if (count[k] > 0) yield return (k, count[k], right[k]);
    }
}
