namespace ConvNet.Demo.Teaching;

/// <summary>
/// The walkthrough lessons (docs/walkthroughs/0N-….md). Each lesson builds tiny tensors with
/// hand-set weights, runs them through the real ConvNet layers and prints the numbers as plain text.
/// The output is deterministic and culture-invariant; the walkthrough pages embed it verbatim.
/// </summary>
public static class Lessons
{
    /// <summary>Lesson numbers and titles, in order.</summary>
    public static IReadOnlyList<(int Number, string Title)> All { get; } =
    [
        (1, "Convolution as a swept neuron: the yellow detector"),
        (2, "A 3×3 filter over three channels"),
        (3, "Padding and stride"),
        (4, "1×1 convolution: mixing channels"),
        (5, "Pooling"),
        (6, "Backpropagation through one convolution"),
        (7, "Classic architectures: LeNet-5 and AlexNet"),
        (8, "The lecture's Mandarin model, layer by layer"),
        (9, "Learning a filter from data"),
        (10, "Backpropagation, completed"),
        (11, "Receptive fields and stacks of 3×3 filters"),
        (12, "Inception modules and residual connections"),
        (13, "Error analysis: what one image is worth"),
        (14, "Augmentation, tuning and transfer learning"),
    ];

    /// <summary>The title of lesson <paramref name="n"/>.</summary>
    public static string Title(int n) => All.FirstOrDefault(l => l.Number == n).Title
        ?? throw new ArgumentOutOfRangeException(nameof(n), n, $"There is no lesson {n}; lessons are numbered 1 to {All.Count}.");

    /// <summary>The figures of lesson <paramref name="n"/>, rendered by the same code that prints its numbers.</summary>
    internal static IReadOnlyList<IFigureFile> Figures(int n)
    {
        _ = Title(n);
        return FigureCache.GetOrAdd(n, BuildFigures);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, IReadOnlyList<IFigureFile>> FigureCache = new();

    private static IReadOnlyList<IFigureFile> BuildFigures(int n)
    {
        return n switch
        {
            1 => [.. YellowDetectorLesson.Figures()],
            2 => [.. MultichannelLesson.Figures(), MultichannelLesson.SlidingWindow()],
            3 => [.. PaddingStrideLesson.Figures()],
            4 => [.. PointwiseLesson.Figures()],
            5 => [.. PoolingLesson.Figures()],
            6 => [.. BackpropLesson.Figures()],
            7 => [.. ArchitecturesLesson.Figures()],
            8 => [.. MandarinModelLesson.Figures()],
            9 => [.. LearningFilterLesson.Figures()],
            10 => [.. BackpropCompletedLesson.Figures()],
            11 => [.. ReceptiveFieldLesson.Figures()],
            12 => [.. InceptionResidualLesson.Figures()],
            13 => [.. ErrorAnalysisLesson.Figures()],
            14 => [.. AugmentTuneTransferLesson.Figures()],
            _ => [],
        };
    }

    /// <summary>Where the walkthrough pages expect the figures, relative to the repository root.</summary>
    public const string FigureFolder = "docs/images/walkthroughs";

    /// <summary>The text of lesson <paramref name="n"/> (1 to <see cref="All"/>.Count), lines separated by '\n', ending with '\n'.</summary>
    public static string Render(int n)
    {
        var page = new Page();
        page.Line($"Lesson {n}: {Title(n)}");
        page.Line(new string('=', $"Lesson {n}: {Title(n)}".Length));
        page.Line();
        switch (n)
        {
            case 1: YellowDetectorLesson.Write(page); break;
            case 2: MultichannelLesson.Write(page); break;
            case 3: PaddingStrideLesson.Write(page); break;
            case 4: PointwiseLesson.Write(page); break;
            case 5: PoolingLesson.Write(page); break;
            case 6: BackpropLesson.Write(page); break;
            case 7: ArchitecturesLesson.Write(page); break;
            case 8: MandarinModelLesson.Write(page); break;
            case 9: LearningFilterLesson.Write(page); break;
            case 10: BackpropCompletedLesson.Write(page); break;
            case 11: ReceptiveFieldLesson.Write(page); break;
            case 12: InceptionResidualLesson.Write(page); break;
            case 13: ErrorAnalysisLesson.Write(page); break;
            case 14: AugmentTuneTransferLesson.Write(page); break;
        }
        return page.ToString();
    }
}
