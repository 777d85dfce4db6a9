using PuppeteerSharp;

namespace ConvNet.Demo.Tests.Browser;

/// <summary>One headless Debian Chromium (PuppeteerSharp, <c>--no-sandbox</c> since CI runs as root) for the browser tests;
/// closed (or killed) on dispose.</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    /// <summary>The bound of every browser wait: launch, navigation, waiting for the page, closing.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser is not launched.");

    public async Task InitializeAsync()
    {
        string path = ChromiumLocator.Find();
        _browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true,
            ExecutablePath = path,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            Timeout = (int)Wait.TotalMilliseconds,
            ProtocolTimeout = (int)Wait.TotalMilliseconds,
        }).WaitAsync(Wait);
    }

    public async Task DisposeAsync()
    {
        if (_browser is null) return;
        try { await _browser.CloseAsync().WaitAsync(Wait); }
        catch (TimeoutException) { _browser.Process?.Kill(entireProcessTree: true); }
        finally { await _browser.DisposeAsync(); }
    }
}

[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "Chromium";
}
