using System.Text;
using RestoreTools.Tests.Unit.Agent;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>One line of the corpus manifest: a case, what it is, and what must not happen with it.</summary>
public sealed record HostileCase(int Part, string Path, string Kind, string MustNot, string Detail);

/// <summary>
/// The hostile corpus made by tests/Hostile/make-hostile-image.sh, once per test run, with its links
/// pointing at an outside folder of this run that holds a sentinel file. The image's sha256 is
/// taken at once: every test checks that the image is byte-identical afterwards.
/// </summary>
public sealed class HostileCorpus : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("rt-hostile-").FullName;
    public string Outside { get; } = Directory.CreateTempSubdirectory("rt-hostile-out-").FullName;
    public string Image => Path.Combine(Dir, "hostile.img");
    public string ImageSha { get; }
    public IReadOnlyList<HostileCase> Cases { get; }
    public string SentinelText { get; } = "sentinel " + Guid.NewGuid().ToString("N") + "\n";
    public string Sentinel => Path.Combine(Outside, "sentinel.txt");

    /// <summary>Entries below partition 1's root as find counts them on a read-only mount of our own.</summary>
    public long Part1EntryCount { get; }

    /// <summary>Of those, the entries in nonutf8/, whose names are not UTF-8 (listed with their bytes as \\xHH).</summary>
    public long Part1NonUtf8Count { get; }

    /// <summary>sha256 of the sparse files that hold data, read on that same mount.</summary>
    public Dictionary<string, string> DataSha { get; } = [];

    public const int Depth = 300;
    public const string DeepSegment = "d0123456789abcdefghi";
    public const int ManyCount = 3000;

    public HostileCorpus()
    {
        string script = Path.Combine(AgentBinaries.RepoRoot, "tests/Hostile/make-hostile-image.sh");
        Shell.Run($"'{script}' '{Image}' '{Outside}' >/dev/null");
        Cases = File.ReadAllLines(Image + ".manifest.tsv", Encoding.Latin1)
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .Select(f => new HostileCase(int.Parse(f[0]), Unescape(f[1]), f[2], f[3], Unescape(f[4])))
            .ToList();
        string mnt = Path.Combine(Dir, "count");
        Directory.CreateDirectory(mnt);
        var counted = Shell.Run(
            $"mount -o ro,loop,offset={1 << 20},sizelimit={48 << 20} '{Image}' '{mnt}' && (cd '{mnt}' && find . -mindepth 1 -printf x | wc -c && find . -mindepth 1 -path './nonutf8/*' -printf x | wc -c && sha256sum sparse/middle sparse/tail; cd /); umount '{mnt}'")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Part1EntryCount = long.Parse(counted[0]);
        Part1NonUtf8Count = long.Parse(counted[1]);
        foreach (var line in counted.Skip(2)) DataSha[line.Split("  ")[1]] = line.Split(' ')[0];
        ImageSha = Shell.Sha256(Image);
        File.WriteAllText(Sentinel, SentinelText);
        Directory.CreateDirectory(Path.Combine(Outside, "dir"));
        File.WriteAllText(Path.Combine(Outside, "dir/keep.txt"), "keep\n");
    }

    /// <summary>The manifest's C escapes (\\ \n \t \xNN) back to the name's bytes, read as UTF-8 as the engine reads names.</summary>
    private static string Unescape(string s)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\') { bytes.Add((byte)s[i]); continue; }
            char c = s[++i];
            if (c == 'n') bytes.Add((byte)'\n');
            else if (c == 't') bytes.Add((byte)'\t');
            else if (c == 'x') { bytes.Add(Convert.ToByte(s.Substring(i + 1, 2), 16)); i += 2; }
            else bytes.Add((byte)c);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public IEnumerable<HostileCase> OfKind(params string[] kinds) => Cases.Where(c => kinds.Contains(c.Kind));

    /// <summary>Everything under the outside folder: names, types, modes, sizes, link counts, mtimes, link targets and content.</summary>
    public string OutsideSnapshot() => Snapshot(Outside);

    public static string Snapshot(string dir) => Shell.Run(
        $"cd '{dir}' && find . -printf '%p %y %m %U:%G %s %n %T@ %l\\n' | sort && find . -type f -exec sha256sum {{}} + | sort");

    public void AssertImageUnchanged() => Assert.Equal(ImageSha, Shell.Sha256(Image));

    public void Dispose()
    {
        // A loop device still on our image is ours: an agent that had to be killed left it (issue 10, item 8).
        foreach (var loop in Shell.Run($"losetup -j '{Image}' | cut -d: -f1").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            try { Shell.Run($"losetup -d '{loop}'"); } catch (InvalidOperationException) { }
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
        try { Directory.Delete(Outside, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition("Hostile")]
public sealed class HostileCollection : ICollectionFixture<HostileCorpus>;
