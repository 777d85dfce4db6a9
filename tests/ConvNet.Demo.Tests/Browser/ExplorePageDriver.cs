using System.Globalization;
using PuppeteerSharp;

namespace ConvNet.Demo.Tests.Browser;

/// <summary>
/// One explore page open in the browser: collects page errors and console errors (any is a test failure), clicks units
/// with the mouse and reads what the detail and softmax panels display. Every wait is bounded by <see cref="ChromiumFixture.Wait"/>.
/// </summary>
internal sealed class ExplorePageDriver : IAsyncDisposable
{
    private readonly IPage _page;
    private readonly List<string> _errors = [];
    private static int Ms => (int)ChromiumFixture.Wait.TotalMilliseconds;

    private ExplorePageDriver(IPage page) => _page = page;

    public static async Task<ExplorePageDriver> OpenAsync(IBrowser browser, string htmlPath)
    {
        var page = await browser.NewPageAsync().WaitAsync(ChromiumFixture.Wait);
        var driver = new ExplorePageDriver(page);
        page.DefaultTimeout = Ms;
        page.DefaultNavigationTimeout = Ms;
        page.PageError += (_, e) => driver.Record("page error: " + e.Message);
        page.Console += (_, e) => { if (e.Message.Type == ConsoleType.Error) driver.Record("console error: " + e.Message.Text); };
        await page.SetViewportAsync(new ViewPortOptions { Width = 1400, Height = 1000 }).WaitAsync(ChromiumFixture.Wait);
        await page.GoToAsync(new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri, new NavigationOptions { Timeout = Ms, WaitUntil = [WaitUntilNavigation.Load] });
        await page.WaitForFunctionAsync("() => document.body.dataset.ready === '1'", new WaitForFunctionOptions { Timeout = Ms });
        return driver;
    }

    private void Record(string error) { lock (_errors) _errors.Add(error); }

    /// <summary>Page and console errors so far.</summary>
    public IReadOnlyList<string> Errors { get { lock (_errors) return _errors.ToArray(); } }

    /// <summary>The number of layer sections on the page.</summary>
    public Task<int> LayerCountAsync() => _page.EvaluateExpressionAsync<int>("document.querySelectorAll('section.layer').length");

    /// <summary>Clicks pixel (y, x) of thumbnail <paramref name="channel"/> of node <paramref name="node"/> with the mouse and waits for the detail panel.</summary>
    public async Task ClickUnitAsync(int node, int channel, int y, int x)
    {
        string selector = $"canvas.map[data-node='{node}'][data-channel='{channel}']";
        var handle = await _page.QuerySelectorAsync(selector) ?? throw new InvalidOperationException($"No thumbnail {selector} on the page.");
        await handle.ScrollIntoViewAsync();
        // The canvas's content box in viewport pixels; the click goes to the centre of the unit's cell.
        var box = await _page.EvaluateFunctionAsync<double[]>(
            "s => { const c = document.querySelector(s), r = c.getBoundingClientRect(); return [r.left + c.clientLeft, r.top + c.clientTop, c.clientWidth / c.width, c.clientHeight / c.height]; }",
            selector);
        await _page.Mouse.ClickAsync((decimal)(box[0] + (x + 0.5) * box[2]), (decimal)(box[1] + (y + 0.5) * box[3]));
        await _page.WaitForFunctionAsync("(n) => document.getElementById('detail').dataset.node === String(n) && document.getElementById('detail').dataset.ready === '1'",
            new WaitForFunctionOptions { Timeout = Ms }, node);
    }

    /// <summary>Which unit the detail panel shows ("y,x,c" or "u").</summary>
    public Task<string> DetailUnitAsync() => _page.EvaluateExpressionAsync<string>("document.getElementById('detail').dataset.at");

    /// <summary>The number shown in the detail panel's line <paramref name="field"/> (sum, bias, z, activation, layer), parsed from its text.</summary>
    public async Task<double> ReadAsync(string field)
    {
        string text = await _page.EvaluateFunctionAsync<string>("f => { const e = document.getElementById('d-' + f); return e ? e.textContent : ''; }", field);
        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>The softmax rows as shown: class index, class name and the probability's text.</summary>
    public async Task<(int Class, string Name, double P)[]> SoftmaxAsync()
    {
        var rows = await _page.EvaluateExpressionAsync<string[][]>(
            "[...document.querySelectorAll('.softmax-row')].map(r => [r.dataset.class, r.querySelector('.name').textContent, r.querySelector('.p').textContent])");
        return rows.Select(r => (int.Parse(r[0], CultureInfo.InvariantCulture), r[1], double.Parse(r[2], NumberStyles.Float, CultureInfo.InvariantCulture))).ToArray();
    }

    /// <summary>A PNG of the viewport.</summary>
    public Task<byte[]> ScreenshotAsync() => _page.ScreenshotDataAsync(new ScreenshotOptions { Type = ScreenshotType.Png }).WaitAsync(ChromiumFixture.Wait);

    public async ValueTask DisposeAsync()
    {
        try { await _page.CloseAsync().WaitAsync(ChromiumFixture.Wait); }
        catch (TimeoutException) { }
    }
}
