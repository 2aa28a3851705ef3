namespace RestoreTools.Tests.Unit.Fuzz;

/// <summary>The seed corpus in tests/Fuzz/corpus: disks made by the real tools (tests/Fuzz/make-corpus.sh), packed.</summary>
public static class FuzzCorpus
{
    public static string DefaultDirectory()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RestoreTools.slnx"))) return Path.Combine(d.FullName, "tests", "Fuzz", "corpus");
        throw new DirectoryNotFoundException("RestoreTools.slnx not found above " + AppContext.BaseDirectory);
    }

    public static List<(string Name, FuzzDisk Disk)> Load(string dir) =>
        [.. Directory.EnumerateFiles(dir, "*.bin").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileNameWithoutExtension(f), FuzzDisk.Decode(File.ReadAllBytes(f))))];
}
