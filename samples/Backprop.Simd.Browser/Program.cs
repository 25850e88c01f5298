using Backprop.Simd.Browser;
using Microsoft.AspNetCore.Components.WebAssembly.Hosting;

// The page is the whole app: one root component, no router, no server.
var builder = WebAssemblyHostBuilder.CreateDefault(args);
builder.RootComponents.Add<App>("#app");
await builder.Build().RunAsync();
