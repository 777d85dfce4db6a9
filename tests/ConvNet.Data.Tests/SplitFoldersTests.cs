using Xunit;

namespace ConvNet.Data.Tests;

/// <summary>Reference values were produced with CPython 3 (random module) and split-folders' algorithm.</summary>
public class SplitFoldersTests
{
    [Fact]
    public void PythonRandom_matches_cpython_for_seed_1337()
    {
        var r = new PythonRandom(1337);
        Assert.Equal(0.6177528569514706, r.NextDouble());
        Assert.Equal(0.5332655736050008, r.NextDouble());
        Assert.Equal(0.36584835924937553, r.NextDouble());
        r.Seed(1337);
        Assert.Equal(2653228291u, r.GetRandBits(32));
        Assert.Equal(3975144315u, r.GetRandBits(32));
        Assert.Equal(2290358181u, r.GetRandBits(32));
        Assert.Equal(90u, r.GetRandBits(7));
        Assert.Equal(46u, r.GetRandBits(7));
    }

    [Theory]
    [InlineData(0L, 0.8444218515250481, 0.7579544029403025, 0.420571580830845, 3626764237u, new[] { 0, 1, 0, 2, 32, 497 })]
    [InlineData(1L, 0.13436424411240122, 0.8474337369372327, 0.763774618976614, 577090037u, new[] { 0, 0, 1, 0, 31, 779 })]
    [InlineData(42L, 0.6394267984578837, 0.025010755222666936, 0.27502931836911926, 2746317213u, new[] { 0, 0, 2, 2, 15, 228 })]
    [InlineData(-5L, 0.6229016948897019, 0.7417869892607294, 0.7951935655656966, 2675342405u, new[] { 0, 1, 2, 6, 47, 667 })]
    [InlineData(4294967303L, 0.22550888929893187, 0.35860096918797, 0.7992331241239754, 968553300u, new[] { 0, 1, 1, 6, 3, 983 })]
    [InlineData(123456789L, 0.6414006161858726, 0.5421892680969495, 0.9931750662832721, 2754794679u, new[] { 0, 1, 1, 5, 29, 406 })]
    [InlineData(2147483647L, 0.3177580158172969, 0.8173550078299876, 0.1963472909507713, 1364760256u, new[] { 0, 0, 0, 2, 45, 340 })]
    [InlineData(1337L, 0.6177528569514706, 0.5332655736050008, 0.36584835924937553, 2653228291u, new[] { 0, 0, 1, 3, 40, 808 })]
    public void PythonRandom_matches_cpython_for_other_seeds(long seed, double r0, double r1, double r2, uint bits, int[] below)
    {
        var r = new PythonRandom(seed);
        Assert.Equal([r0, r1, r2], new[] { r.NextDouble(), r.NextDouble(), r.NextDouble() });
        r.Seed(seed);
        Assert.Equal(bits, r.GetRandBits(32));
        r.Seed(seed);
        int[] bounds = [1, 2, 3, 7, 50, 1000];
        Assert.Equal(below, bounds.Select(r.RandBelow).ToArray());
    }

    [Theory]
    [InlineData(1337, new[] { 0, 5, 3, 1, 2, 6, 4 })]
    [InlineData(42, new[] { 7, 3, 2, 8, 5, 6, 9, 4, 0, 1 })]
    [InlineData(0, new[] { 10, 18, 16, 14, 0, 17, 11, 2, 3, 9, 5, 7, 4, 19, 6, 15, 8, 1, 13, 12 })]
    [InlineData(7, new[] { 7, 23, 25, 31, 4, 10, 5, 15, 30, 0, 19, 8, 14, 24, 22, 29, 13, 27, 21, 6, 16, 28, 18, 11, 3, 17, 26, 2, 1, 32, 12, 9, 20 })]
    [InlineData(1337, new[] { 2, 1, 20, 17, 48, 29, 8, 18, 31, 30, 41, 43, 15, 47, 32, 5, 7, 14, 3, 38, 33, 0, 28, 9, 35, 26, 12, 11, 42, 22, 16, 4, 44, 27, 6, 49, 13, 25, 19, 46, 40, 24, 21, 10, 37, 36, 23, 45, 34, 39 })]
    [InlineData(1, new[] { 0 })]
    [InlineData(1, new[] { 1, 0 })]
    public void Shuffle_matches_cpython(int seed, int[] expected)
    {
        var list = Enumerable.Range(0, expected.Length).ToList();
        new PythonRandom(seed).Shuffle(list);
        Assert.Equal(expected, list);
    }

    [Fact]
    public void Shuffling_the_lecture_class_gives_the_lecture_order()
    {
        var files = Enumerable.Range(1, 7).Select(k => $"bai-{k}.png").ToList();
        new PythonRandom(1337).Shuffle(files);
        Assert.Equal(new[] { 1, 6, 4, 2, 3, 7, 5 }, files.Select(f => int.Parse(f[4..^4])));
    }

    private static TempDir MakeClasses(IEnumerable<string> classes, Func<string, IEnumerable<string>> files)
    {
        var dir = new TempDir();
        foreach (string c in classes)
        {
            Directory.CreateDirectory(dir.Combine("in", c));
            foreach (string f in files(c)) File.WriteAllText(dir.Combine("in", c, f), $"{c}/{f}");
        }
        return dir;
    }

    [Fact]
    public void Lecture_ratio_puts_7_in_val_and_5_in_test_for_every_class()
    {
        string[] classes = ["bai", "ben", "chong", "zhuo"];
        using var dir = MakeClasses(classes, c => Enumerable.Range(1, 7).Select(k => $"{c}-{k}.png"));
        var splits = SplitFolders.Ratio(dir.Combine("in"), dir.Combine("out"), 1337, 5.0 / 7, 1.0 / 7, 1.0 / 7);

        Assert.Equal(classes, splits.Select(s => s.ClassName));
        foreach (var s in splits)
        {
            string c = s.ClassName;
            Assert.Equal(new[] { 1, 6, 4, 2, 3 }.Select(k => $"{c}-{k}.png"), s.Train.Select(Path.GetFileName));
            Assert.Equal([$"{c}-7.png"], s.Val.Select(Path.GetFileName));
            Assert.Equal([$"{c}-5.png"], s.Test.Select(Path.GetFileName));
            Assert.True(File.Exists(dir.Combine("out", "val", c, $"{c}-7.png")));
            Assert.True(File.Exists(dir.Combine("out", "test", c, $"{c}-5.png")));
            Assert.Equal(5, Directory.GetFiles(dir.Combine("out", "train", c)).Length);
            Assert.Equal($"{c}/{c}-7.png", File.ReadAllText(dir.Combine("out", "val", c, $"{c}-7.png")));
        }
    }

    [Fact]
    public void Sorting_is_by_code_point_and_hidden_files_and_subfolders_are_ignored()
    {
        // Python: sorted(names) puts '～' (U+FF5E) before '😀' (U+1F600), unlike UTF-16 ordinal order.
        string[] names = ["B.png", "a.png", "Z10.png", "z2.png", "é.png", "中.png", "😀.png", "\uff5e.png", "notes.txt",
                          .. Enumerable.Range(1, 11).Select(i => $"img_{i}.jpg")];
        using var dir = MakeClasses(["c"], _ => names);
        File.WriteAllText(dir.Combine("in", "c", ".DS_Store"), "junk");
        File.WriteAllText(dir.Combine("in", "c", "._a.png"), "junk");
        Directory.CreateDirectory(dir.Combine("in", "c", "sub"));
        File.WriteAllText(dir.Combine("in", "c", "sub", "deep.png"), "not listed: split-folders is not recursive");

        var s = Assert.Single(SplitFolders.RatioLists(dir.Combine("in"), 42, 0.7, 0.15, 0.15));
        Assert.Equal(["😀.png", "img_11.jpg", "notes.txt", "img_10.jpg", "img_5.jpg", "img_9.jpg", "z2.png", "～.png", "img_2.jpg", "img_8.jpg", "中.png", "img_6.jpg", "Z10.png", "img_7.jpg"],
                     s.Train.Select(Path.GetFileName));
        Assert.Equal(["a.png", "é.png", "img_3.jpg"], s.Val.Select(Path.GetFileName));
        Assert.Equal(["img_4.jpg", "B.png", "img_1.jpg"], s.Test.Select(Path.GetFileName));
    }

    [Theory]
    // (ratio, n) → int(r0·n), int(r1·n) as computed by Python; covers float boundaries such as 0.15·20 = 3.0000000000000004
    // and 0.6·3 = 1.7999999999999998.
    [InlineData(0.7, 0.15, 0.15, new[] { 3, 7, 10, 20, 30, 49, 50 }, new[] { 2, 4, 7, 14, 21, 34, 35 }, new[] { 0, 1, 1, 3, 4, 7, 7 })]
    [InlineData(0.8, 0.1, 0.1, new[] { 3, 7, 10, 20, 30, 49, 50 }, new[] { 2, 5, 8, 16, 24, 39, 40 }, new[] { 0, 0, 1, 2, 3, 4, 5 })]
    [InlineData(0.6, 0.2, 0.2, new[] { 3, 7, 10, 20, 30, 49, 50 }, new[] { 1, 4, 6, 12, 18, 29, 30 }, new[] { 0, 1, 2, 4, 6, 9, 10 })]
    public void Ratio_counts_truncate_like_python(double r0, double r1, double r2, int[] ns, int[] trains, int[] vals)
    {
        for (int k = 0; k < ns.Length; k++)
        {
            int n = ns[k];
            using var dir = MakeClasses(["x"], _ => Enumerable.Range(0, n).Select(i => $"f{i:D3}"));
            var s = Assert.Single(SplitFolders.RatioLists(dir.Combine("in"), 1337, r0, r1, r2));
            Assert.Equal((trains[k], vals[k], n - trains[k] - vals[k]), (s.Train.Count, s.Val.Count, s.Test.Count));
        }
    }

    [Fact]
    public void Thirds_and_sevenths_match_python()
    {
        using var dir = MakeClasses(["x"], _ => Enumerable.Range(0, 49).Select(i => $"f{i:D3}"));
        var a = Assert.Single(SplitFolders.RatioLists(dir.Combine("in"), 1337, 1.0 / 3, 1.0 / 3, 1.0 / 3));
        Assert.Equal((16, 16, 17), (a.Train.Count, a.Val.Count, a.Test.Count));
        var b = Assert.Single(SplitFolders.RatioLists(dir.Combine("in"), 1337, 5.0 / 7, 1.0 / 7, 1.0 / 7));
        Assert.Equal((35, 7, 7), (b.Train.Count, b.Val.Count, b.Test.Count));
    }

    [Fact]
    public void Two_ratios_give_train_and_val_only()
    {
        using var dir = MakeClasses(["a", "b"], c => Enumerable.Range(1, 7).Select(k => $"{c}-{k}.png"));
        var splits = SplitFolders.Ratio(dir.Combine("in"), dir.Combine("out"), 1337, 0.8, 0.2);
        foreach (var s in splits)
        {
            Assert.Equal(5, s.Train.Count); // int(0.8·7) = 5
            Assert.Equal(2, s.Val.Count);   // the rest
            Assert.Empty(s.Test);
        }
        Assert.False(Directory.Exists(dir.Combine("out", "test")));
        Assert.True(Directory.Exists(dir.Combine("out", "val", "b")));
    }

    [Fact]
    public void Fixed_matches_split_folders()
    {
        // Python: random.seed(7); shuffle(bai-1..9) → 2, 7, 8, 5, 1, 9, 4, 3, 6
        using var dir = MakeClasses(["bai"], c => Enumerable.Range(1, 9).Select(k => $"{c}-{k}.png"));
        string input = dir.Combine("in");
        static int[] Ks(IReadOnlyList<string> files) => files.Select(f => int.Parse(Path.GetFileNameWithoutExtension(f)[4..])).ToArray();

        var two = Assert.Single(SplitFolders.Fixed(input, dir.Combine("out"), 7, 2, 3));
        Assert.Equal([2, 7, 8, 5], Ks(two.Train));
        Assert.Equal([1, 9], Ks(two.Val));
        Assert.Equal([4, 3, 6], Ks(two.Test));
        Assert.Equal(3, Directory.GetFiles(dir.Combine("out", "test", "bai")).Length);

        var one = Assert.Single(SplitFolders.FixedLists(input, 7, 2));
        Assert.Equal([2, 7, 8, 5, 1, 9, 4], Ks(one.Train));
        Assert.Equal([3, 6], Ks(one.Val));
        Assert.Empty(one.Test);

        var three = Assert.Single(SplitFolders.FixedLists(input, 7, 3, 2, 1));
        Assert.Equal([2, 7, 8], Ks(three.Train));
        Assert.Equal([5, 1], Ks(three.Val));
        Assert.Equal([9], Ks(three.Test));
    }

    [Fact]
    public void Fixed_with_too_few_files_names_the_class()
    {
        using var dir = MakeClasses(["small"], _ => ["a", "b", "c"]);
        var e = Assert.Throws<ArgumentException>(() => SplitFolders.FixedLists(dir.Combine("in"), 1337, 2, 2));
        Assert.Contains("\"small\"", e.Message);
        Assert.Contains("only 3", e.Message);
    }

    [Fact]
    public void Bad_ratios_and_inputs_are_rejected()
    {
        using var dir = MakeClasses(["a"], _ => ["x"]);
        Assert.Throws<ArgumentException>(() => SplitFolders.RatioLists(dir.Combine("in"), 1, 0.5, 0.2, 0.2));
        Assert.Throws<ArgumentException>(() => SplitFolders.RatioLists(dir.Combine("in"), 1, 1.0));
        var missing = Assert.Throws<ArgumentException>(() => SplitFolders.RatioLists(dir.Combine("nope"), 1, 0.8, 0.2));
        Assert.Contains("nope", missing.Message);
        Directory.CreateDirectory(dir.Combine("empty"));
        Assert.Throws<ArgumentException>(() => SplitFolders.RatioLists(dir.Combine("empty"), 1, 0.8, 0.2));
    }

    [Fact]
    public void Default_ratio_is_80_10_10()
    {
        using var dir = MakeClasses(["a"], _ => Enumerable.Range(0, 10).Select(i => $"{i}.png"));
        var s = Assert.Single(SplitFolders.RatioLists(dir.Combine("in")));
        Assert.Equal((8, 1, 1), (s.Train.Count, s.Val.Count, s.Test.Count));
    }
}
