// Builds the emoji-objects class-folder set from the unpacked npm packages emoji-datasource-google and
// emoji-datasource-twitter 16.0.0 (see scripts/make-emoji-objects.sh and data/emoji-objects/ATTRIBUTION.md):
//   out/train|val|test/<class>/<unified>-<vendor>.png
// - classes: the object-like subcategories below (ImageNet covers such objects); a class with fewer than 12 emoji is dropped;
// - emoji: top-level entries of emoji.json that both vendors draw (has_img_* and the 64×64 file present), no skin-tone variants;
// - pixels: 64×64 RGBA with the alpha composited on white, saved as 8-bit RGB PNG;
// - split by emoji, never by file: split-folders' algorithm (ConvNet.Data.SplitFolders.RatioOfFiles, seed 1337,
//   ratio 0.6/0.2/0.2) over each class's list of unified code points; both styles of an emoji go to the same side.
// Usage: MakeEmojiObjects <google package dir> <twitter package dir> <out dir>
using System.Text.Json;
using ConvNet.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: MakeEmojiObjects <emoji-datasource-google package dir> <emoji-datasource-twitter package dir> <out dir>");
    return 2;
}
var vendors = new[] { ("google", args[0]), ("twitter", args[1]) };
string outDir = args[2];
const int MinEmoji = 12, Seed = 1337;
double[] ratio = [0.6, 0.2, 0.2];
string[] subcategories =
[
    "animal-mammal", "animal-bird", "animal-marine", "animal-bug", "plant-flower", "plant-other",
    "food-fruit", "food-vegetable", "food-prepared", "drink",
    "transport-ground", "clothing", "household", "tool", "sport", "sky & weather",
];
string[] skinTones = ["1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF"];

// The two packages' emoji.json list the same emoji; an emoji counts when both say they draw it and both files exist.
var entries = vendors.Select(v => ReadEntries(Path.Combine(v.Item2, "emoji.json"))).ToArray();
var encoder = new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8, CompressionLevel = PngCompressionLevel.BestCompression };
int files = 0;
foreach (var sub in subcategories)
{
    string cls = sub.Replace(" & ", "-", StringComparison.Ordinal);   // "sky & weather" → "sky-weather"
    var emoji = entries[0].Values
        .Where(e => e.Subcategory == sub && !skinTones.Any(t => e.Unified.Contains(t, StringComparison.Ordinal)))
        .Where(e => vendors.Select((v, i) => entries[i].TryGetValue(e.Unified, out var x) && x.Has(v.Item1)
                                             && File.Exists(ImagePath(v.Item2, v.Item1, x.Image))).All(b => b))
        .Select(e => e.Unified).ToList();
    if (emoji.Count < MinEmoji)
    {
        Console.WriteLine($"dropped {cls}: {emoji.Count} emoji drawn by both vendors (fewer than {MinEmoji})");
        continue;
    }
    var (train, val, test) = SplitFolders.RatioOfFiles(emoji, Seed, ratio);
    foreach (var (part, list) in new[] { ("train", train), ("val", val), ("test", test) })
        foreach (var u in list)
            for (int v = 0; v < vendors.Length; v++)
            {
                var (vendor, dir) = vendors[v];
                string target = Path.Combine(outDir, part, cls, $"{u}-{vendor}.png");
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var image = Image.Load<Rgba32>(ImagePath(dir, vendor, entries[v][u].Image));
                using var rgb = OnWhite(image);
                rgb.Save(target, encoder);
                files++;
            }
    Console.WriteLine($"{cls,-17} {emoji.Count,3} emoji: train {train.Count,2}, val {val.Count,2}, test {test.Count,2}");
}
Console.WriteLine($"{files} files in {Path.GetFullPath(outDir)}");
return 0;

static string ImagePath(string package, string vendor, string image) => Path.Combine(package, "img", vendor, "64", image);

// out = (c·a + 255·(255 − a)) / 255, rounded: straight alpha over a white background.
static Image<Rgb24> OnWhite(Image<Rgba32> src)
{
    var dst = new Image<Rgb24>(src.Width, src.Height);
    for (int y = 0; y < src.Height; y++)
        for (int x = 0; x < src.Width; x++)
        {
            var p = src[x, y];
            static byte Mix(byte c, byte a) => (byte)((c * a + 255 * (255 - a) + 127) / 255);
            dst[x, y] = new Rgb24(Mix(p.R, p.A), Mix(p.G, p.A), Mix(p.B, p.A));
        }
    return dst;
}

static Dictionary<string, Entry> ReadEntries(string path)
{
    using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
    var result = new Dictionary<string, Entry>(StringComparer.Ordinal);
    foreach (var e in doc.RootElement.EnumerateArray())
    {
        var entry = new Entry(e.GetProperty("unified").GetString()!, e.GetProperty("subcategory").GetString()!, e.GetProperty("image").GetString()!,
            e.GetProperty("has_img_google").GetBoolean(), e.GetProperty("has_img_twitter").GetBoolean());
        result[entry.Unified] = entry;
    }
    return result;
}

internal sealed record Entry(string Unified, string Subcategory, string Image, bool Google, bool Twitter)
{
    public bool Has(string vendor) => vendor == "google" ? Google : Twitter;
}
