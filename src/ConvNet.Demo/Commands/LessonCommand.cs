using System.CommandLine;
using ConvNet.Demo.Teaching;

namespace ConvNet.Demo.Commands;

/// <summary><c>convnet lesson N</c>: prints the numbers of walkthrough page N (docs/walkthroughs/), computed by the library.</summary>
internal static class LessonCommand
{
    public static Command Create(CliHost host)
    {
        var number = new Argument<int>("number")
        {
            Description = "Lesson number: " + string.Join("; ", Lessons.All.Select(l => $"{l.Number} {l.Title}")),
        };
        number.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, out int n) && Lessons.All.All(l => l.Number != n))
                r.AddError($"lesson must be 1 to {Lessons.All.Count}, got {n}.");
        });
        var figures = new Option<string?>("--figures")
        {
            Description = $"Also write the lesson's figures (PNG, animated GIF) into DIR; the pages link them from {Lessons.FigureFolder}/.",
            HelpName = "DIR",
        };
        var cmd = new Command("lesson", "Print the worked numbers of one teaching walkthrough (docs/walkthroughs/), computed by the library.") { number, figures };
        cmd.SetAction(pr => host.Execute(pr, ctx =>
        {
            int n = pr.GetValue(number);
            ctx.Out.Write(Lessons.Render(n));
            if (pr.GetValue(figures) is { } dir)
                foreach (var f in Lessons.Figures(n)) ctx.Err.WriteLine($"wrote {f.Save(dir)}");
            return ExitCodes.Success;
        }));
        return cmd;
    }
}
