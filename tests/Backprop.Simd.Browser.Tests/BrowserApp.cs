using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(Backprop.Simd.Browser.Tests.BrowserApp))]

namespace Backprop.Simd.Browser.Tests;

/// <summary>
/// Once per test run: publishes samples/Backprop.Simd.Browser into a temporary folder, serves it on 127.0.0.1 with
/// Kestrel and starts the system's Chromium (headless) through Playwright. Where there is no Chromium the tests skip,
/// saying so; in CI (CI=true) they fail instead, since CI installs it.
/// </summary>
public sealed class BrowserApp : IAsyncLifetime
{
    /// <summary>The variable that names a Chromium executable other than the usual system paths.</summary>
    public const string ChromiumVariable = "BACKPROP_CHROMIUM";

    private static readonly string[] ChromiumPaths = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"backprop-browser-{Guid.NewGuid():N}");
    private WebApplication? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>Where the page is served.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Why the tests cannot run here, or null.</summary>
    public string? Missing { get; private set; }

    /// <summary>How long publishing took.</summary>
    public TimeSpan PublishTime { get; private set; }

    /// <summary>The Chromium executable: <see cref="ChromiumVariable"/>, else the first of the usual paths that exists.</summary>
    public static string? FindChromium() =>
        Environment.GetEnvironmentVariable(ChromiumVariable) is { Length: > 0 } given ? given : ChromiumPaths.FirstOrDefault(File.Exists);

    public async ValueTask InitializeAsync()
    {
        string? chromium = FindChromium();
        if (chromium is null || !File.Exists(chromium))
        {
            Missing = $"no Chromium at {chromium ?? string.Join(", ", ChromiumPaths)} (install Debian's `chromium`, or set {ChromiumVariable})";
            return;
        }

        Directory.CreateDirectory(_folder);
        await PublishAsync();
        _server = Serve(Path.Combine(_folder, "wwwroot"));
        await _server.StartAsync();
        Address = new Uri(_server.Urls.First() + "/");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true });
    }

    /// <summary>A new page (its own context, so no state is shared between tests), 1100 x 900 CSS pixels.</summary>
    public async Task<IPage> NewPageAsync()
    {
        RequireBrowser();
        IBrowserContext context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1100, Height = 900 },
            AcceptDownloads = true,
        });
        return await context.NewPageAsync();
    }

    /// <summary>Skips the calling test where there is no Chromium; fails it instead in CI.</summary>
    public void RequireBrowser()
    {
        if (Missing is null)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"The browser tests cannot run: {Missing}. CI installs Chromium (.ci/run), so this is a failure there.");
        }

        Assert.Skip($"The browser tests need Chromium: {Missing}.");
    }

    // `dotnet publish`, uncompressed (the server sends the plain files). The test project's build has built the sample
    // (a ProjectReference without its assembly), so this takes seconds. Not --no-build: that skips filling in
    // index.html's asset placeholders (the fingerprinted script names and the import map).
    private async Task PublishAsync()
    {
        string project = Path.Combine(RepositoryRoot(), "samples", "Backprop.Simd.Browser", "Backprop.Simd.Browser.csproj");
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            ArgumentList = { "publish", project, "-c", configuration, "-o", _folder, "-p:CompressionEnabled=false" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        long started = Stopwatch.GetTimestamp();
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        PublishTime = Stopwatch.GetElapsedTime(started);
        if (process.ExitCode != 0 || !File.Exists(Path.Combine(_folder, "wwwroot", "index.html")))
        {
            throw new InvalidOperationException($"dotnet publish of {project} failed (exit {process.ExitCode}):\n{await output}\n{await errors}");
        }
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Backprop.Simd.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Backprop.Simd.sln above {AppContext.BaseDirectory}.");
    }

    // Static files on a free port of 127.0.0.1: index.html for "/", .wasm as application/wasm (the browser compiles
    // WebAssembly while downloading only with that type), anything else Blazor lays out served as it is.
    private static WebApplication Serve(string root)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = root, WebRootPath = root });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".wasm"] = "application/wasm";
        types.Mappings[".json"] = "application/json";
        var files = new PhysicalFileProvider(root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, ContentTypeProvider = types, ServeUnknownFileTypes = true });
        return app;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
