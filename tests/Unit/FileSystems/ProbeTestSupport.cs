using System.Diagnostics;
using RestoreTools.Engine.Disks;

namespace RestoreTools.Tests.Unit.FileSystems;

/// <summary>A throw-away directory under /tmp, removed on dispose.</summary>
public sealed class ProbeTempDir : IDisposable
{
    public ProbeTempDir()
    {
        Path = Directory.CreateTempSubdirectory("rt-probes-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Process helpers for building images with the real mkfs tools and reading blkid's verdict.</summary>
public static class ProbeTestSupport
{
    public static string Run(string file, params string[] args) => RunWithInput(null, file, args);

    public static string RunWithInput(string? stdin, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        var stderrTask = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} timed out");
        }
        string stderr = stderrTask.GetAwaiter().GetResult();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr}{stdout}");
        return stdout;
    }

    /// <summary>Creates a sparse file of the given size, like truncate -s.</summary>
    public static void CreateSparse(string path, long size)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        fs.SetLength(size);
    }

    public static void WriteAt(string path, long offset, ReadOnlySpan<byte> data)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Write);
        fs.Position = offset;
        fs.Write(data);
    }

    /// <summary>
    /// blkid -p -o export as a dictionary (low-level superblock probing, no cache).
    /// Empty when blkid finds nothing (exit status 2). Export mode backslash-escapes shell-special characters.
    /// </summary>
    public static Dictionary<string, string> Blkid(string path)
    {
        var psi = new ProcessStartInfo("blkid") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-p", "-o", "export", path }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start blkid");
        string stdout = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = line.IndexOf('=');
            if (eq <= 0) continue;
            result[line[..eq]] = Unescape(line[(eq + 1)..]);
        }
        return result;
    }

    /// <summary>
    /// Undoes blkid's export quoting: a backslash before shell-special characters, and cat -v notation for
    /// bytes outside printable ASCII ("M-" adds 0x80, "^" flips 0x40), so UTF-8 labels come back as text.
    /// </summary>
    private static string Unescape(string v)
    {
        var bytes = new List<byte>(v.Length);
        for (int i = 0; i < v.Length; i++)
        {
            int high = 0;
            if (v[i] == 'M' && i + 2 < v.Length && v[i + 1] == '-')
            {
                high = 0x80;
                i += 2;
            }
            if (v[i] == '^' && i + 1 < v.Length && (high != 0 || v[i + 1] is >= '?' and <= '_'))
            {
                bytes.Add((byte)(high | (v[i + 1] ^ 0x40)));
                i++;
                continue;
            }
            if (high == 0 && v[i] == '\\' && i + 1 < v.Length) i++;
            bytes.Add((byte)(high | v[i]));
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>A small directory tree for the image builders that pack a directory (iso, squashfs, erofs, ufs).</summary>
    public static string MakeContent(ProbeTempDir tmp)
    {
        string dir = tmp.File("content");
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        System.IO.File.WriteAllText(Path.Combine(dir, "hello.txt"), "hello\n");
        System.IO.File.WriteAllText(Path.Combine(dir, "sub", "file.bin"), new string('x', 5000));
        return dir;
    }
}

/// <summary>An in-memory device, for corrupting superblocks without touching files.</summary>
public sealed class MemoryBlockReader(byte[] data, int sectorSize = 512) : IBlockReader
{
    public long Length => data.Length;
    public int SectorSize => sectorSize;

    public int ReadAt(long offset, Span<byte> buffer)
    {
        if (offset < 0 || offset >= data.Length) return 0;
        int n = (int)Math.Min(buffer.Length, data.Length - offset);
        data.AsSpan((int)offset, n).CopyTo(buffer);
        return n;
    }
}
