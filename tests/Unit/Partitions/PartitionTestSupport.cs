using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RestoreTools.Engine.Disks;
using RestoreTools.Engine.Partitions;

namespace RestoreTools.Tests.Unit.Partitions;

/// <summary>A temp directory for disk images made by the real sfdisk/fdisk on plain files.</summary>
public sealed class ImageDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("rt-parts-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Runs a bash script in the directory; fails the test with its stderr on a non-zero exit.</summary>
    public string Sh(string script)
    {
        var psi = new ProcessStartInfo("/bin/bash", ["-euo", "pipefail", "-c", script])
        {
            WorkingDirectory = Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        psi.Environment["LC_ALL"] = "C.UTF-8";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"script failed ({p.ExitCode}): {script}\n{stderr.Result}");
        return stdout;
    }

    /// <summary>Overwrites bytes of an image in place (like dd conv=notrunc).</summary>
    public void Patch(string name, long offset, params byte[] bytes)
    {
        using var fs = new FileStream(File(name), FileMode.Open, FileAccess.Write);
        fs.Position = offset;
        fs.Write(bytes);
    }

    public byte[] ReadBytes(string name, long offset, int count)
    {
        using var fs = new FileStream(File(name), FileMode.Open, FileAccess.Read);
        var buf = new byte[count];
        fs.Position = offset;
        fs.ReadExactly(buf);
        return buf;
    }

    public PartitionTable? Read(string name, int sectorSize = 512)
    {
        using var reader = new FileBlockReader(File(name), sectorSize);
        return PartitionTableReader.Read(reader);
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>One partition as sfdisk (or fdisk -l) reports it, in our string conventions.</summary>
public sealed record ExpectedPartition(int Number, long Start, long Size, string Type, string? Uuid, string? Name);

public sealed record ExpectedTable(string Label, string Id, int SectorSize, IReadOnlyList<ExpectedPartition> Partitions);

public static class Sfdisk
{
    /// <summary>Parses `sfdisk -J image` into our conventions (lower-case GUIDs, MBR type "0x83").</summary>
    public static ExpectedTable Json(ImageDir dir, string image)
    {
        using var doc = JsonDocument.Parse(dir.Sh($"sfdisk -J {image}"));
        var pt = doc.RootElement.GetProperty("partitiontable");
        string label = pt.GetProperty("label").GetString()!;
        string id = pt.GetProperty("id").GetString()!;
        int ss = pt.TryGetProperty("sectorsize", out var s) ? s.GetInt32() : 512;
        var parts = new List<ExpectedPartition>();
        if (pt.TryGetProperty("partitions", out var arr))
        {
            foreach (var p in arr.EnumerateArray())
            {
                string type = p.GetProperty("type").GetString()!;
                parts.Add(new ExpectedPartition(
                    NodeNumber(p.GetProperty("node").GetString()!),
                    p.GetProperty("start").GetInt64(),
                    p.GetProperty("size").GetInt64(),
                    label == "gpt" ? type.ToLowerInvariant() : "0x" + Convert.ToByte(type, 16).ToString("x2", CultureInfo.InvariantCulture),
                    p.TryGetProperty("uuid", out var u) ? u.GetString()!.ToLowerInvariant() : null,
                    p.TryGetProperty("name", out var n) ? n.GetString() : null));
            }
        }
        return new ExpectedTable(label, label == "gpt" ? id.ToLowerInvariant() : id, ss, parts);
    }

    /// <summary>
    /// Parses `fdisk -b SS -l -o Device,Start,Sectors,Type-UUID,UUID,Name` for sector sizes that this
    /// sfdisk (2.38, no --sector-size) cannot be told about. Name is the rest of the line.
    /// </summary>
    public static ExpectedTable FdiskGpt(ImageDir dir, string image, int sectorSize)
    {
        string output = dir.Sh($"fdisk -b {sectorSize} -l -o Device,Start,Sectors,Type-UUID,UUID,Name {image}");
        string id = "";
        var parts = new List<ExpectedPartition>();
        bool inTable = false;
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("Disk identifier: ", StringComparison.Ordinal))
                id = line["Disk identifier: ".Length..].Trim().ToLowerInvariant();
            else if (line.StartsWith("Device", StringComparison.Ordinal))
                inTable = true;
            else if (inTable && line.StartsWith(image, StringComparison.Ordinal))
            {
                var f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                string? name = f.Length > 5 ? f[5].Trim() : null;
                parts.Add(new ExpectedPartition(NodeNumber(f[0]), long.Parse(f[1], CultureInfo.InvariantCulture),
                    long.Parse(f[2], CultureInfo.InvariantCulture), f[3].ToLowerInvariant(), f[4].ToLowerInvariant(),
                    string.IsNullOrEmpty(name) ? null : name));
            }
        }
        return new ExpectedTable("gpt", id, sectorSize, parts);
    }

    private static int NodeNumber(string node)
    {
        int i = node.Length;
        while (i > 0 && char.IsAsciiDigit(node[i - 1])) i--;
        return int.Parse(node[i..], CultureInfo.InvariantCulture);
    }

    /// <summary>Asserts every partition (number, start, size, type, uuid, name) matches sfdisk's.</summary>
    public static void AssertSame(ExpectedTable expected, PartitionTable? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Label, actual.Label);
        Assert.Equal(expected.Id, actual.DiskId);
        Assert.Equal(expected.SectorSize, actual.SectorSize);
        Assert.Equal(expected.Partitions.Select(p => p.Number), actual.Partitions.Select(p => p.Number));
        foreach (var e in expected.Partitions)
        {
            var a = actual.Partitions.Single(p => p.Number == e.Number);
            Assert.Equal(e.Start, a.StartSector);
            Assert.Equal(e.Size, a.SectorCount);
            Assert.Equal(expected.SectorSize, a.SectorSize);
            Assert.Equal(e.Type, a.Type);
            Assert.Equal(e.Name, a.Name);
            if (expected.Label == "gpt")
                Assert.Equal(e.Uuid, a.Uuid);
            else // sfdisk -J has no uuid for dos; blkid's PART_ENTRY_UUID is "<id>-<nn hex>"
                Assert.Equal($"{expected.Id[2..]}-{e.Number:x2}", a.Uuid);
        }
    }
}
