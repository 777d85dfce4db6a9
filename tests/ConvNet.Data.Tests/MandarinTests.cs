using ConvNet.Data.Mandarin;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace ConvNet.Data.Tests;

public sealed class MandarinLabelsTests
{
    private static readonly string[] s_lectureOrder =
    [
        "bai", "ben", "chong", "chu", "chuan", "cong", "da", "dan", "dong", "fei", "fu", "fu2", "gao", "gong", "guo",
        "hu", "huo", "kou", "ku", "lin", "ma", "ma2", "ma3", "mei", "men", "ming", "mu", "nan", "niao", "niu", "nu",
        "nuan", "peng", "quan", "ren", "ri", "rou", "sen", "shan", "shan2", "shui", "tai", "tian", "wang", "wen",
        "xian", "xuan", "yan", "yang", "yin", "yu", "yu2", "yue", "zhong", "zhu", "zhu2", "zhuo",
    ];

    [Fact]
    public void HasFiftySevenLabelsInOrdinalOrder()
    {
        var names = MandarinLabels.Names;
        Assert.Equal(57, names.Count);
        Assert.Equal(57, MandarinLabels.Count);
        Assert.Equal(s_lectureOrder, names);
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), names);
        Assert.Equal(57, names.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData("bai", "白", 0x767D)]
    [InlineData("kou", "口", 0x53E3)]
    [InlineData("shui", "水", 0x6C34)]
    [InlineData("zhuo", "舟", 0x821F)]
    [InlineData("fu2", "肤", 0x80A4)]
    public void KnownCharacters(string label, string character, int codePoint)
    {
        var entry = MandarinLabels.Get(label);
        Assert.Equal(character, entry.Character);
        Assert.Equal(codePoint, entry.CodePoint);
    }

    [Fact]
    public void IndexOfMatchesClassIndex()
    {
        Assert.Equal(0, MandarinLabels.IndexOf("bai"));
        Assert.Equal(17, MandarinLabels.IndexOf("kou")); // the lecture's argmax 17 → "kou"
        Assert.Equal(56, MandarinLabels.IndexOf("zhuo"));
        Assert.Equal(-1, MandarinLabels.IndexOf("nope"));
        Assert.Throws<ArgumentException>(() => MandarinLabels.Get("nope"));
    }
}

public sealed class MandarinStrokeTests
{
    public static TheoryData<string> AllLabels()
    {
        var data = new TheoryData<string>();
        foreach (var l in MandarinLabels.Names)
        {
            data.Add(l);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(AllLabels))]
    public void EveryLabelHasStrokes(string label)
    {
        var ch = StrokeCharacter.Load(label);
        Assert.Equal(label, ch.Label.Label);
        Assert.True(ch.StrokeCount >= 1);
        foreach (var stroke in ch.Medians)
        {
            Assert.NotEmpty(stroke);
            foreach (var p in stroke)
            {
                // y already flipped (900 − y): everything lies roughly inside the 1024 box
                Assert.InRange(p.X, -50f, 1074f);
                Assert.InRange(p.Y, -50f, 1074f);
            }
        }
    }

    [Theory]
    [InlineData("kou", 3)]
    [InlineData("ren", 2)]
    [InlineData("shan", 3)]
    [InlineData("sen", 12)]
    public void StrokeCounts(string label, int strokes) => Assert.Equal(strokes, StrokeCharacter.Load(label).StrokeCount);

    [Fact]
    public void LoadAllAndLicense()
    {
        Assert.Equal(57, StrokeCharacter.LoadAll().Count);
        Assert.Contains("ARPHIC PUBLIC LICENSE", StrokeCharacter.LicenseText, StringComparison.OrdinalIgnoreCase);
    }
}

public sealed class MandarinGeneratorTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "convnet-mandarin-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void RenderIsDeterministicAndSeedDependent()
    {
        var a = MandarinGenerator.RenderSampleBytes("kou", 3, seed: 42);
        var b = MandarinGenerator.RenderSampleBytes("kou", 3, seed: 42);
        var c = MandarinGenerator.RenderSampleBytes("kou", 3, seed: 43);
        var d = MandarinGenerator.RenderSampleBytes("kou", 4, seed: 42);
        Assert.Equal(128 * 128, a.Length);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, d);
    }

    [Fact]
    public void RenderIsDarkInkOnLightPaper()
    {
        var f = MandarinGenerator.RenderSample("da", 1, size: 64);
        Assert.Equal(64 * 64, f.Length);
        Assert.All(f, v => Assert.InRange(v, 0f, 1f));
        var sorted = f.OrderBy(v => v).ToArray();
        float median = sorted[sorted.Length / 2];
        Assert.True(median > 0.7f, $"paper should be light, median {median}");
        Assert.True(sorted[sorted.Length / 100] < 0.5f, "some pixels should be dark ink");
        // ink is a minority of the pixels
        Assert.True(f.Count(v => v < 0.5f) < f.Length / 3);
    }

    [Fact]
    public void ZeroVariationStillRenders()
    {
        var style = MandarinStyle.Default with { Variation = 0, PixelNoise = 0, MissingStrokeProbability = 0 };
        var f = MandarinGenerator.RenderSample("kou", 1, style: style);
        Assert.Contains(f, v => v < 0.5f);
    }

    [Fact]
    public void InvalidStyleIsRejected()
    {
        var bad = MandarinStyle.Default with { ScaleMin = 1.2, ScaleMax = 1.0 };
        Assert.Throws<ArgumentOutOfRangeException>(() => MandarinGenerator.RenderSample("kou", 1, style: bad));
        Assert.Throws<ArgumentException>(() => MandarinGenerator.RenderSample("nope", 1));
    }

    [Fact]
    public void GenerateWritesLayoutForSubset()
    {
        var files = MandarinGenerator.Generate(_dir, labels: ["kou", "ren", "bai"]);
        Assert.Equal(21, files.Count);
        Assert.Equal(["bai", "kou", "ren"], Directory.GetDirectories(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var label in new[] { "bai", "kou", "ren" })
        {
            var names = Directory.GetFiles(Path.Combine(_dir, label)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(Enumerable.Range(1, 7).Select(k => $"{label}-{k}.png"), names);
            foreach (var name in names)
            {
                var path = Path.Combine(_dir, label, name!);
                var info = Image.Identify(path);
                Assert.Equal(128, info.Width);
                Assert.Equal(128, info.Height);
                Assert.Equal(8, info.PixelType.BitsPerPixel); // 8-bit grayscale
                using var img = Image.Load<L8>(path);
                var px = new L8[128 * 128];
                img.CopyPixelDataTo(px);
                int k = int.Parse(name!.Split('-', '.')[1]);
                Assert.Equal(MandarinGenerator.RenderSampleBytes(label, k), px.Select(p => p.PackedValue));
            }
        }
    }

    [Fact]
    public void GenerateIsByteIdenticalForSameSeed()
    {
        var a = Path.Combine(_dir, "a");
        var b = Path.Combine(_dir, "b");
        var c = Path.Combine(_dir, "c");
        MandarinGenerator.Generate(a, seed: 7, samplesPerClass: 3, labels: ["shui", "kou"]);
        MandarinGenerator.Generate(b, seed: 7, samplesPerClass: 3, labels: ["kou", "shui"]);
        MandarinGenerator.Generate(c, seed: 8, samplesPerClass: 3, labels: ["shui", "kou"]);
        foreach (var rel in new[] { "kou/kou-1.png", "kou/kou-3.png", "shui/shui-2.png" })
        {
            var fa = File.ReadAllBytes(Path.Combine(a, rel));
            Assert.Equal(fa, File.ReadAllBytes(Path.Combine(b, rel)));
            Assert.NotEqual(fa, File.ReadAllBytes(Path.Combine(c, rel)));
        }
    }

    [Fact]
    public void SubsetMatchesFullGenerationSample()
    {
        // a sample depends only on (seed, label, k): generating one class alone gives the same file
        var one = Path.Combine(_dir, "one");
        var two = Path.Combine(_dir, "two");
        MandarinGenerator.Generate(one, samplesPerClass: 2, labels: ["ma"]);
        MandarinGenerator.Generate(two, samplesPerClass: 2, labels: ["ma", "ma2", "ma3"]);
        Assert.Equal(File.ReadAllBytes(Path.Combine(one, "ma", "ma-2.png")), File.ReadAllBytes(Path.Combine(two, "ma", "ma-2.png")));
    }

    [Fact]
    public void ContactSheetHasRowPerClass()
    {
        MandarinGenerator.Generate(_dir, samplesPerClass: 7, size: 64, labels: ["kou", "ren"]);
        var sheet = Path.Combine(_dir, "sheet", "contact.png");
        MandarinGenerator.WriteContactSheet(_dir, sheet, cellSize: 32);
        var info = Image.Identify(sheet);
        Assert.True(info.Width > 7 * 32);
        Assert.True(info.Height > 2 * 32 && info.Height < 4 * 32 + 60);
        Assert.Throws<DirectoryNotFoundException>(() => MandarinGenerator.WriteContactSheet(Path.Combine(_dir, "missing"), sheet));
    }
}
