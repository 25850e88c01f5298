using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Backprop.Simd.IO;

/// <summary>
/// The file handling every model, ONNX and plot writer and every model reader shares: atomic replacement that never
/// touches anything but a regular file, a pre-flight check of a destination, and bounded reads of regular files only.
/// </summary>
/// <remarks>
/// <para>An atomic write goes to a temporary file next to the target, named <c>.{name}.{pid}.{guid}.tmp</c>, which
/// is flushed to disk, renamed over the target, after which the directory is flushed too (on Unix). On any failure
/// the temporary file is deleted. A process killed mid-write cannot delete its file, so each write first removes the
/// stale temporary files of the same target: those whose writer process is gone and that have not been modified
/// for <see cref="DeadWriterAfterSeconds"/> seconds, and any not modified for <see cref="StaleAfterSeconds"/> seconds (an active writer flushes at least every 64 KiB).</para>
/// <para>Only regular files (or symbolic links to them) are replaced or read: a target that is a directory, a
/// character or block device, a FIFO or a socket is refused with an <see cref="IOException"/> naming it, so that
/// saving onto <c>/dev/full</c> cannot replace the device node and reading <c>/dev/zero</c> cannot run forever.</para>
/// </remarks>
internal static partial class SafeFile
{
    /// <summary>How old (since its last write) a temporary file of a live process must be before a later write of the same target removes it.</summary>
    internal const int StaleAfterSeconds = 30;

    /// <summary>How old (since its last write) a temporary file whose writer process seems gone must be before it is removed.</summary>
    internal const int DeadWriterAfterSeconds = 5;

    private const string TemporarySuffix = ".tmp";

    /// <summary>
    /// Checks, before any long work, that <paramref name="path"/> can be written: its directory exists and is
    /// writable (probed by creating and deleting a temporary file), and the path is not something other than a regular file.
    /// </summary>
    /// <param name="path">The file that will be written.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist; the message names <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> exists and is not a regular file, or the directory cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public static void CheckWritable(string path)
    {
        string target = Target(path, out string directory, out string name);
        CheckDirectory(path, directory);
        CheckReplaceable(path, target);
        string probe = TemporaryPath(directory, name);
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Explain(e, path, directory, probe);
        }
        finally
        {
            DeleteQuietly(probe);
        }
    }

    /// <summary>
    /// Writes <paramref name="path"/> atomically: <paramref name="write"/> fills a temporary file in the same
    /// directory, which is flushed to disk and renamed over <paramref name="path"/>. A crash or an error never leaves a
    /// half-written file behind, and an existing file is either kept whole or replaced whole.
    /// </summary>
    /// <param name="path">The file to create or replace; if it exists it must be a regular file.</param>
    /// <param name="write">Writes the content to the stream it is given (and does not close it).</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> exists and is not a regular file, or writing failed (e.g. the disk is full).</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string target = Target(path, out string directory, out string name);
        CheckDirectory(path, directory);
        CheckReplaceable(path, target);
        RemoveStaleTemporaries(directory, name);
        string temporary = TemporaryPath(directory, name);
        bool renamed = false;
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 4096))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }

            CheckReplaceable(path, target); // again: the target may have changed while the content was written
            File.Move(temporary, target, overwrite: true);
            renamed = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !renamed && e.Message.Contains(temporary, StringComparison.Ordinal))
        {
            throw Explain(e, path, directory, temporary); // name the user's file, not our temporary one
        }
        finally
        {
            if (!renamed)
            {
                DeleteQuietly(temporary);
            }
        }

        SyncDirectory(directory); // makes the rename itself durable
    }

    /// <summary>
    /// Reads the whole of <paramref name="path"/>, which must be a regular file of at most <paramref name="maxBytes"/>
    /// bytes. The buffer grows with the bytes actually read, so a file that lies about its length (or grows) cannot
    /// make it allocate more than it holds, nor more than the limit.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The most bytes accepted.</param>
    /// <param name="kind">What the file should be, for messages, e.g. <c>model</c>.</param>
    /// <returns>The file's bytes.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="DirectoryNotFoundException">Its directory does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a directory, a device, a FIFO or a socket, or reading failed.</exception>
    /// <exception cref="InvalidDataException">The file holds more than <paramref name="maxBytes"/> bytes.</exception>
    public static byte[] ReadAll(string path, int maxBytes, string kind)
    {
        using FileStream file = OpenRead(path, kind);
        long length = file.Length;
        if (length > maxBytes)
        {
            throw TooLarge(path, kind, maxBytes, $"has {length} bytes");
        }

        byte[] buffer = new byte[Math.Max(length, 4096)];
        int total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (total >= maxBytes)
                {
                    if (file.ReadByte() < 0)
                    {
                        break;
                    }

                    throw TooLarge(path, kind, maxBytes, "has grown beyond that while being read");
                }

                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, maxBytes));
            }

            int got = file.Read(buffer, total, buffer.Length - total);
            if (got == 0)
            {
                break;
            }

            total += got;
        }

        return total == buffer.Length ? buffer : buffer.AsSpan(0, total).ToArray();
    }

    /// <summary>Opens <paramref name="path"/> for reading once it is known to be a regular file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="kind">What the file should be, for messages, e.g. <c>IDX</c>.</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="DirectoryNotFoundException">Its directory does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a directory, a device, a FIFO or a socket.</exception>
    public static FileStream OpenRead(string path, string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(kind);
        if (Directory.Exists(path))
        {
            throw new IOException($"'{path}' is a directory, expected a {kind} file.");
        }

        if (!File.Exists(path))
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null && !Directory.Exists(directory))
            {
                throw new DirectoryNotFoundException($"{kind} file '{path}' does not exist: its directory '{directory}' does not exist.");
            }

            throw new FileNotFoundException($"{kind} file '{path}' does not exist.", path);
        }

        if (KindOf(path) is { } other)
        {
            throw new IOException($"'{path}' is {other}, not a regular file; a {kind} file must be a regular file.");
        }

        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
    }

    private static InvalidDataException TooLarge(string path, string kind, int maxBytes, string problem) =>
        new($"{path}: the file {problem}, more than the {maxBytes} bytes a {kind} file may have.");

    private static string Target(string path, out string directory, out string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string target = Path.GetFullPath(path);
        name = Path.GetFileName(target);
        if (name.Length == 0)
        {
            throw new ArgumentException($"path '{path}' names a directory, expected the path of a file.", nameof(path));
        }

        directory = Path.GetDirectoryName(target) ?? throw new ArgumentException($"path '{path}' is a root directory, expected the path of a file.", nameof(path));
        return target;
    }

    private static void CheckDirectory(string path, string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        if (File.Exists(directory))
        {
            throw new IOException($"Cannot write '{path}': '{directory}' is a file, not a directory.");
        }

        throw new DirectoryNotFoundException($"Cannot write '{path}': the directory '{directory}' does not exist.");
    }

    private static void CheckReplaceable(string path, string target)
    {
        if (Directory.Exists(target))
        {
            throw new IOException($"Cannot write '{path}': it is a directory, expected a file.");
        }

        if (KindOf(target) is { } other)
        {
            throw new IOException($"Cannot write '{path}': it is {other}, and only a regular file is ever replaced.");
        }
    }

    private static Exception Explain(Exception e, string path, string directory, string temporary) => e switch
    {
        UnauthorizedAccessException => new UnauthorizedAccessException($"Cannot write '{path}': the directory '{directory}' is not writable.", e),
        _ => new IOException($"Cannot write '{path}': {e.Message.Replace(temporary, path, StringComparison.Ordinal)}", e),
    };

    private static string TemporaryPath(string directory, string name) =>
        Path.Combine(directory, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}{TemporarySuffix}");

    /// <summary>Deletes the temporary files earlier writes of <paramref name="name"/> left behind (see the remarks).</summary>
    internal static void RemoveStaleTemporaries(string directory, string name)
    {
        if (name.AsSpan().IndexOfAny('*', '?') >= 0)
        {
            return; // the name cannot be matched safely with a search pattern; leave the directory alone
        }

        string prefix = "." + name + ".";
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(directory, prefix + "*" + TemporarySuffix).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // best effort: the write itself reports a real problem with the directory
        }

        DateTime now = DateTime.UtcNow;
        foreach (string candidate in candidates)
        {
            string fileName = Path.GetFileName(candidate);
            if (!TryParseTemporary(fileName.AsSpan(prefix.Length, fileName.Length - prefix.Length - TemporarySuffix.Length), out int? writer))
            {
                continue; // not one of ours
            }

            // A writer in another PID namespace (another container sharing the directory) looks gone while it
            // writes, so even a dead writer's file must have rested a few seconds.
            double idleSeconds = (now - File.GetLastWriteTimeUtc(candidate)).TotalSeconds;
            bool writerGone = writer is int pid && pid != Environment.ProcessId && idleSeconds > DeadWriterAfterSeconds && !IsRunning(pid);
            if (writerGone || idleSeconds > StaleAfterSeconds)
            {
                DeleteQuietly(candidate);
            }
        }
    }

    // "{pid}.{32 hex digits}" (this version) or "{32 hex digits}" (earlier versions, which did not record the writer).
    private static bool TryParseTemporary(ReadOnlySpan<char> middle, out int? writer)
    {
        writer = null;
        int dot = middle.IndexOf('.');
        ReadOnlySpan<char> guid = dot < 0 ? middle : middle[(dot + 1)..];
        if (guid.Length != 32 || guid.ContainsAnyExcept("0123456789abcdef"))
        {
            return false;
        }

        if (dot < 0)
        {
            return true;
        }

        if (!int.TryParse(middle[..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid))
        {
            return false;
        }

        writer = pid;
        return true;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false; // no such process, or it exited meanwhile
        }
        catch (PlatformNotSupportedException)
        {
            return true; // cannot tell: keep the file, which the age rule removes once it is stale
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original error is the one to report.
        }
    }

    /// <summary>What <paramref name="path"/> is when it exists and is one of the known kinds of non-regular file
    /// ("a character device", ...); null for a regular file, a missing path, or where the type cannot be told
    /// (Windows, or a file type this code does not know), which are all allowed.</summary>
    internal static string? KindOf(string path)
    {
        if (OperatingSystem.IsWindows() || !StatLayoutKnown.Value)
        {
            return null; // no device nodes or FIFOs among ordinary paths (Windows), or the runtime's stat changed
        }

        return StatMode(path) is int mode ? KindOfMode(mode) : null;
    }

    // The file types (S_IFMT bits, the same on Linux and macOS) that are refused; stat follows symbolic links, so
    // a link is judged by its target. Anything else, including a type added later, is "cannot tell" and allowed.
    internal static string? KindOfMode(int mode) => (mode & 0xF000) switch
    {
        0x4000 => "a directory",
        0x2000 => "a character device",
        0x6000 => "a block device",
        0x1000 => "a FIFO (named pipe)",
        0xC000 => "a socket",
        _ => null,
    };

    // SystemNative_Stat fills the runtime's private FileStatus, whose mode sits at offset 4 today. Before trusting
    // that, check it once against the root directory: a directory there, with the permission bits .NET reports. A
    // runtime that changed the layout then makes every type unknown (allowed), not every file refused.
    internal static readonly Lazy<bool> StatLayoutKnown = new(() =>
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        try
        {
            return StatMode("/") is int mode && (mode & 0xF000) == 0x4000 && (mode & 0xFFF) == (int)File.GetUnixFileMode("/");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            return false;
        }
    });

    // The st_mode of path (following links), or null when it does not exist or cannot be asked for.
    private static int? StatMode(string path)
    {
        Span<byte> status = stackalloc byte[256]; // the runtime's FileStatus is about 130 bytes; the mode is at offset 4
        try
        {
            if (Stat(path, ref MemoryMarshal.GetReference(status)) != 0)
            {
                return null; // missing (or a dangling link, which a rename replaces harmlessly)
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null; // a runtime without System.Native: cannot tell, so behave as before
        }

        return BitConverter.ToInt32(status[4..]);
    }

    // Flushes a directory's entries (the rename) to disk. Best effort: some file systems refuse fsync on directories.
    private static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            int fd = Open(directory, 0); // O_RDONLY
            if (fd >= 0)
            {
                _ = FSync(fd);
                _ = Close(fd);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No libc to call: the rename is still atomic, only its durability is left to the system.
        }
    }

    // The runtime's own stat (libSystem.Native ships with every .NET runtime on Unix): its FileStatus layout is the
    // same on every architecture, unlike libc's struct stat.
    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, ref byte status);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
