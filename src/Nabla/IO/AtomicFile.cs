using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Nabla.IO;

/// <summary>
/// Writes files so that a crash leaves either the old file or the complete new one, never half of
/// one: the bytes go to a temporary file beside the target (<c>NAME.PID.RANDOM.tmp</c>), flushed to
/// disk, then renamed over it. Only regular files are replaced that way. A symbolic link is
/// followed and the file it points to replaced (the link stays); anything else that is not a
/// regular file (a FIFO, a terminal, <c>/dev/stdout</c>, <c>/dev/null</c>) is written through,
/// never replaced; a directory is an error. Temporary files left by a process that was killed
/// while writing the same target are removed by the next write.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes through <paramref name="write"/> to <paramref name="path"/> as the type's summary says.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        switch (Kind(full))
        {
            case FileKind.Directory:
                throw new IOException($"{path} is a directory, not a file to write.");
            case FileKind.Special:
                using (var stream = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                {
                    write(stream);
                }
                return;
            case FileKind.Link:
                // Replace the regular file the link points to; write through anything else, a dangling
                // link included (which creates its target), and /dev/stdout's chain that ends in a pipe.
                if (File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target && Kind(target.FullName) == FileKind.Regular)
                {
                    Write(target.FullName, write);
                    return;
                }
                using (var stream = new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite))
                {
                    write(stream);
                }
                return;
        }
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        RemoveStaleTemporaries(full);
        string temp = $"{full}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.{Guid.NewGuid().ToString("N")[..8]}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes text atomically (UTF-8).</summary>
    public static void WriteText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// Throws an <see cref="IOException"/> (or <see cref="UnauthorizedAccessException"/>) naming
    /// <paramref name="option"/> and <paramref name="path"/> unless a file can be written there:
    /// not a directory, its folder exists or can be made, and the folder takes a new file. Run it
    /// before long work whose result goes to <paramref name="path"/>.
    /// </summary>
    public static void CheckWritable(string path, string option)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        FileKind kind = Kind(full);
        if (kind == FileKind.Directory) throw new IOException($"{option} {path} is a directory, not a file.");
        if (kind is FileKind.Special or FileKind.Link) return; // written through; opening a FIFO here would block
        string dir = Path.GetDirectoryName(full) ?? ".";
        CheckWritableFolder(dir, option, path);
    }

    /// <summary>Like <see cref="CheckWritable"/> for a folder that files will be written into (made if missing).</summary>
    public static void CheckWritableFolder(string folder, string option) => CheckWritableFolder(Path.GetFullPath(folder), option, folder);

    private static void CheckWritableFolder(string full, string option, string given)
    {
        if (File.Exists(full) && !Directory.Exists(full)) throw new IOException($"{option} {given}: {full} is a file, not a folder.");
        try
        {
            Directory.CreateDirectory(full);
            string probe = Path.Combine(full, $".nabla-write-check.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.{Guid.NewGuid().ToString("N")[..8]}.tmp");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{option} {given}: cannot write there ({e.Message})", e);
        }
    }

    /// <summary>Removes <c>NAME.PID.RANDOM.tmp</c> files beside <paramref name="full"/> whose writing process no longer runs.</summary>
    private static void RemoveStaleTemporaries(string full)
    {
        string? dir = Path.GetDirectoryName(full);
        if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir)) return;
        string prefix = Path.GetFileName(full) + ".";
        try
        {
            foreach (string temp in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
            {
                string[] parts = Path.GetFileName(temp)[prefix.Length..].Split('.');
                if (parts.Length != 3 || parts[1].Length != 8 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
                if (pid == Environment.ProcessId || IsRunning(pid)) continue;
                File.Delete(temp);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Cleaning up is a courtesy: a file that cannot be removed does not stop the write.
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private enum FileKind { Missing, Regular, Directory, Link, Special }

    /// <summary>What is at <paramref name="full"/>, without following a final symbolic link.</summary>
    private static FileKind Kind(string full)
    {
        var info = new FileInfo(full);
        if (info.LinkTarget is not null) return FileKind.Link;
        if (Directory.Exists(full)) return FileKind.Directory;
        if (!info.Exists) return FileKind.Missing;
        if (OperatingSystem.IsWindows()) return FileKind.Regular;
        // .NET does not tell a FIFO or a device from a regular file: ask the runtime's own stat.
        var status = new byte[256];
        if (NativeStat.Stat(Encoding.UTF8.GetBytes(full + "\0"), status) != 0) return FileKind.Regular;
        int mode = BitConverter.ToInt32(status, 4) & NativeStat.TypeMask;
        return mode == NativeStat.Regular ? FileKind.Regular : FileKind.Special;
    }

    /// <summary>
    /// stat through the .NET runtime's own native shim (libSystem.Native, present wherever .NET runs,
    /// and linked in by NativeAOT), whose status record has the same layout on every platform:
    /// flags (int32), then the mode (int32) with the file type in its S_IFMT bits.
    /// </summary>
    private static class NativeStat
    {
        public const int TypeMask = 0xF000, Regular = 0x8000;

        [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat")]
        public static extern int Stat(byte[] path, [Out] byte[] status);
    }
}
