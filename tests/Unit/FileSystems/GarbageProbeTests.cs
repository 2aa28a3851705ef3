using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems;

namespace RestoreTools.Tests.Unit.FileSystems;

/// <summary>Devices without any signature: every probe must say null, and short devices must not throw.</summary>
public sealed class GarbageProbeTests
{
    public static TheoryData<string> ProbeNames() => new(FileSystemProber.DefaultProbes.Select(p => p.GetType().Name));

    private static IFileSystemProbe ByName(string name) => FileSystemProber.DefaultProbes.Single(p => p.GetType().Name == name);

    [Theory]
    [MemberData(nameof(ProbeNames))]
    public void ZeroFilledFileIsNothing(string probe)
    {
        using var tmp = new ProbeTempDir();
        string img = tmp.File("zero.img");
        ProbeTestSupport.CreateSparse(img, 8 * 1024 * 1024);
        using var reader = new FileBlockReader(img);
        Assert.Null(ByName(probe).Probe(reader));
    }

    [Theory]
    [MemberData(nameof(ProbeNames))]
    public void RandomGarbageIsNothing(string probe)
    {
        using var tmp = new ProbeTempDir();
        string img = tmp.File("random.img");
        var data = new byte[8 * 1024 * 1024];
        new Random(20240611).NextBytes(data);
        File.WriteAllBytes(img, data);
        using var reader = new FileBlockReader(img);
        Assert.Null(ByName(probe).Probe(reader));
        Assert.Null(FileSystemProber.Default.Probe(reader));
    }

    [Theory]
    [MemberData(nameof(ProbeNames))]
    public void TinyDevicesDoNotThrow(string probe)
    {
        foreach (int len in new[] { 0, 1, 10, 511, 512, 1023, 1024, 1500, 4095, 4096, 65536 })
        {
            Assert.Null(ByName(probe).Probe(new MemoryBlockReader(new byte[len])));
            var rnd = new byte[len];
            new Random(len).NextBytes(rnd);
            Assert.Null(ByName(probe).Probe(new MemoryBlockReader(rnd)));
        }
    }

    [Fact]
    public void ProberOrderPutsContainersFirst()
    {
        var names = FileSystemProber.DefaultProbes.Select(p => p.GetType().Name).ToList();
        string[] containers = ["MdRaidProbe", "LvmProbe", "LuksProbe", "VmfsVolumeProbe", "BitLockerProbe", "CoreStorageProbe"];
        Assert.Equal(containers.Length - 1, containers.Max(names.IndexOf));
        Assert.Equal(31, names.Count);
    }
}
