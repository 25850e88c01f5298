using System.Globalization;
using System.Text.RegularExpressions;
using Backprop.Simd.Data;
using Backprop.Simd.Runtime;
using Backprop.Simd.Serialization;
using Microsoft.Playwright;

namespace Backprop.Simd.Browser.Tests;

/// <summary>The published page in headless Chromium: training, drawing, the model file both ways.</summary>
public sealed partial class BrowserPageTests(BrowserApp app)
{
    /// <summary>More of the page's query for the training test, e.g. <c>&amp;bits=32</c> to measure the scalar kernels
    /// (docs/browser.md); unset in the test runs.</summary>
    public const string QueryVariable = "BACKPROP_BROWSER_QUERY";

    private static readonly TimeSpan TrainingLimit = TimeSpan.FromMinutes(3);

    // Downloading and starting .NET on WebAssembly takes seconds on a busy machine (once over Playwright's 5 s
    // default in CI), so the first wait on a page allows a minute.
    private static readonly LocatorAssertionsToContainTextOptions PageStart = new() { Timeout = 60_000 };

    [Fact]
    public async Task Trains_three_epochs_to_85_percent_reads_a_drawn_one_and_round_trips_the_model()
    {
        IPage page = await app.NewPageAsync();
        List<string> errors = Watch(page);
        string? extra = Environment.GetEnvironmentVariable(QueryVariable);
        await page.GotoAsync(new Uri(app.Address, "?epochs=3" + extra).ToString());

        // The library runs on WebAssembly SIMD: 128-bit vectors, multiply then add (unless the query chose a width).
        await Assertions.Expect(page.Locator("#simd")).ToContainTextAsync(
            string.IsNullOrEmpty(extra) ? "128-bit vectors, multiply then add (no FMA)" : "multiply then add (no FMA)", PageStart);

        // Three epochs of the seed's network, the seed's lines in #log.
        await page.WaitForFunctionAsync("() => /Epoch 2: /.test(document.getElementById('log').textContent)", null,
            new PageWaitForFunctionOptions { Timeout = (float)TrainingLimit.TotalMilliseconds });
        string log = await page.Locator("#log").TextContentAsync() ?? "";
        TestContext.Current.TestOutputHelper?.WriteLine($"publish {app.PublishTime.TotalSeconds:F1} s; #log:\n{log}");
        Match[] epochs = EpochLine().Matches(log).ToArray();
        Assert.Equal(["0", "1", "2"], epochs.Select(m => m.Groups[1].Value));
        int correct = int.Parse(epochs[^1].Groups[2].Value, CultureInfo.InvariantCulture), total = int.Parse(epochs[^1].Groups[3].Value, CultureInfo.InvariantCulture);
        Assert.Equal(MnistData.LoadBundled().Test.Count, total);
        Assert.True(correct >= 0.85 * total, $"after 3 epochs {correct} / {total} test digits right, expected at least 85%");
        await Assertions.Expect(page.Locator("#rate")).ToContainTextAsync("samples/s");
        Assert.Equal(3, await page.Locator("#chart circle.accuracy").CountAsync());

        // A vertical stroke, scaled and centred like MNIST's digits, is a one.
        await DrawAsync(page, [(140, 40), (142, 130), (144, 240)]);
        await Assertions.Expect(page.Locator("#prediction")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#latency")).ToContainTextAsync(" us");
        Assert.Equal(10, await page.Locator("#bars .bar").CountAsync());
        await SaveScreenshotAsync(page, "browser.png");

        // What the page measured (samples/s per epoch, one prediction's time), kept for docs/browser.md: the test
        // only records it, speed is never asserted.
        await File.WriteAllTextAsync(Path.Combine(OutputFolder(), "browser-report.txt"),
            $"{await page.Locator("#simd").TextContentAsync()}\n{log}\nprediction {await page.Locator("#prediction").TextContentAsync()}: " +
            $"{await page.Locator("#latency").TextContentAsync()}\n", TestContext.Current.CancellationToken);

        // Export: the file is the library's model JSON, and the network it holds scores natively what it scored in
        // the page, up to the digits whose two largest outputs are too close for the rounding of the two paths
        // (256-bit fused multiply-adds here, 128-bit multiply then add there) to be sure of the order.
        IDownload download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export"));
        string model = Path.Combine(OutputFolder(), "browser-model.json");
        await download.SaveAsAsync(model);
        Network network = ModelJson.Load(model);
        Assert.Equal([784, 30, 10], network.Sizes.ToArray());
        (int nativeCorrect, int nearTies) = EvaluateNatively(network);
        Assert.InRange(nativeCorrect, correct - nearTies, correct + nearTies);

        // Load the same file back: the page evaluates it to the very count of its last epoch.
        await page.Locator("#load").SetInputFilesAsync(model);
        await Assertions.Expect(page.Locator("#log")).ToContainTextAsync($"Loaded browser-model.json: [784, 30, 10], {correct} / {total} test digits right.");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_stroke_on_an_untrained_network_shows_a_prediction_and_clear_removes_it()
    {
        IPage page = await app.NewPageAsync();
        List<string> errors = Watch(page);
        await page.GotoAsync(app.Address.ToString());
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("Ready", PageStart);
        await Assertions.Expect(page.Locator("#prediction")).ToHaveTextAsync("-");
        await DrawAsync(page, [(80, 60), (200, 60), (120, 240)]); // a seven
        await Assertions.Expect(page.Locator("#prediction")).ToHaveTextAsync(DigitPattern());
        await Assertions.Expect(page.Locator("#latency")).ToContainTextAsync(" us");
        await page.ClickAsync("#clear");
        await Assertions.Expect(page.Locator("#prediction")).ToHaveTextAsync("-");
        Assert.Empty(errors);
    }

    // Uncaught exceptions, console errors and failed requests of the page all fail the test.
    private static List<string> Watch(IPage page)
    {
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                errors.Add($"{response.Status} for {response.Url}");
            }
        };
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        return errors;
    }

    // One stroke through the points (canvas pixels of the 280 x 280 pad), as mouse events in small steps.
    private static async Task DrawAsync(IPage page, (float X, float Y)[] points)
    {
        LocatorBoundingBoxResult box = await page.Locator("#pad").BoundingBoxAsync() ?? throw new InvalidOperationException("#pad has no box");
        float scale = box.Width / 280f;
        await page.Mouse.MoveAsync(box.X + (points[0].X * scale), box.Y + (points[0].Y * scale));
        await page.Mouse.DownAsync();
        foreach ((float x, float y) in points.Skip(1))
        {
            await page.Mouse.MoveAsync(box.X + (x * scale), box.Y + (y * scale), new MouseMoveOptions { Steps = 12 });
        }

        await page.Mouse.UpAsync();
    }

    private static async Task SaveScreenshotAsync(IPage page, string name)
    {
        string path = Path.Combine(OutputFolder(), name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {path}");
        TestContext.Current.AddAttachment(name, await File.ReadAllBytesAsync(path), "image/png");
    }

    private static string OutputFolder()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "browser-output");
        Directory.CreateDirectory(folder);
        return folder;
    }

    // The test digits the network gets right here, and how many have their two largest outputs within 0.01.
    private static (int Correct, int NearTies) EvaluateNatively(Network network)
    {
        Dataset test = MnistData.LoadBundled().Test;
        var workspace = new Workspace(network);
        float[] image = new float[network.InputSize];
        int correct = 0, nearTies = 0;
        for (int i = 0; i < test.Count; i++)
        {
            ReadOnlySpan<float> outputs = network.FeedForward(test.Input(i, image), workspace);
            float[] sorted = [.. outputs];
            Array.Sort(sorted);
            nearTies += sorted[^1] - sorted[^2] < 0.01f ? 1 : 0;
            correct += network.Predict(image, workspace) == test.Label(i) ? 1 : 0;
        }

        return (correct, nearTies);
    }

    [GeneratedRegex(@"Epoch (\d+): (\d+) / (\d+)")]
    private static partial Regex EpochLine();

    [GeneratedRegex(@"^[0-9]$")]
    private static partial Regex DigitPattern();
}
