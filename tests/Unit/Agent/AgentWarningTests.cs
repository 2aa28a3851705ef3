using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>What the engine warns of about a disk reaches a remote client with the disk.</summary>
public sealed class AgentWarningTests : IDisposable
{
    private readonly TestImages _images = new();

    public void Dispose() => _images.Dispose();

    [Fact]
    public void AGptWithoutItsProtectiveMbrWarnsThroughTheAgent()
    {
        var fs = _images.FileSystem("ext4", 8, "p", _images.Tree("p", ("f", "f")));
        string img = _images.Disk("noprot.img", 16, "label: gpt\nsize=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n", (1, fs));
        Shell.Run($"dd if=/dev/zero of='{img}' bs=512 count=1 conv=notrunc status=none");

        using var agent = AgentProcess.Start(aot: false, token: true, "--image", "noprot=" + img);
        using var client = agent.Client();
        var disk = Assert.Single(client.GetDisks());
        Assert.Equal("gpt", disk.PartitionTable);
        Assert.Contains(disk.Warnings, w => w.Contains("protective MBR", StringComparison.Ordinal));
    }
}
