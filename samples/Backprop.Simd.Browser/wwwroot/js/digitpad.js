// The drawing pad and the file download: the only JavaScript the page needs. Pointer events cover the mouse, touch
// and pens alike. White strokes on black, like MNIST; .NET reads one channel and does all the preprocessing.

const lineWidth = 22; // at 280x280 this is about 2 pixels of the 28x28 digit: MNIST's stroke width

function position(canvas, event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
}

// Starts listening on the canvas; calls dotnet's OnStrokeEnded when a stroke (pointer down, move, up) is complete.
export function attach(canvas, dotnet) {
    const context = canvas.getContext("2d", { willReadFrequently: true });
    clear(canvas);
    let drawing = false;
    canvas.addEventListener("pointerdown", event => {
        drawing = true;
        canvas.setPointerCapture(event.pointerId);
        const [x, y] = position(canvas, event);
        context.beginPath();
        context.moveTo(x, y);
        context.lineTo(x + 0.01, y); // a tap leaves a dot
        context.stroke();
        event.preventDefault();
    });
    canvas.addEventListener("pointermove", event => {
        if (!drawing) return;
        const [x, y] = position(canvas, event);
        context.lineTo(x, y);
        context.stroke();
        event.preventDefault();
    });
    const end = event => {
        if (!drawing) return;
        drawing = false;
        dotnet.invokeMethodAsync("OnStrokeEnded");
        event.preventDefault();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
}

export function clear(canvas) {
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.fillStyle = "black";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.strokeStyle = "white";
    context.lineWidth = lineWidth;
    context.lineCap = "round";
    context.lineJoin = "round";
}

// The red channel of every pixel, row by row: one byte per pixel (Blazor passes a Uint8Array as a byte[]).
export function pixels(canvas) {
    const rgba = canvas.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, canvas.width, canvas.height).data;
    const gray = new Uint8Array(canvas.width * canvas.height);
    for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i];
    return gray;
}

// Saves bytes as a file through a temporary object URL.
export function download(fileName, bytes) {
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/json" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
}
