using RestoreTools.Engine;
using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems;
using RestoreTools.Tests.Unit.FileSystems;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>
/// A bucket holding a format that is named, not mounted, shows its type and the probe's reason as its error,
/// and mounting it says the same (on the hand-built headers of NamedFormatImages).
/// </summary>
public sealed class NamedFormatBucketTests : IDisposable
{
    private readonly TestEngine _t = new();
    private readonly ProbeTempDir _tmp = new();
    private readonly TestImages _images = new();

    public void Dispose() { _t.Dispose(); _tmp.Dispose(); _images.Dispose(); }

    [Theory]
    [InlineData("bitlocker", "BitLocker")]
    [InlineData("bitlocker-whole-disk", "BitLocker")]
    [InlineData("refs", "ReFS")]
    [InlineData("vmfs", "VMFS")]
    [InlineData("cs-fvault2", "cs_fvault2")]
    [InlineData("ldm-mbr", "windows_ldm")]
    [InlineData("storage-spaces", "storage_spaces_member")]
    public void TheBucketShowsTheTypeAndWhy(string format, string type)
    {
        string img = NamedFormatProbeTests.Build(_tmp, format == "bitlocker-whole-disk" ? "bitlocker" : format);
        string? reason;
        using (var reader = new FileBlockReader(img)) reason = FileSystemProber.Default.Probe(reader)?.Reason;
        Assert.False(string.IsNullOrWhiteSpace(reason));

        // A BitLocker volume in a partition, and one on a whole disk (its boot sector is no MBR: "-FVE-FS-").
        if (format == "bitlocker")
            img = _images.Disk("bitlocker-disk.img", (int)(new FileInfo(img).Length >> 20) + 2, "label: gpt\nstart=2048, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n", (1, img));
        _t.Engine.AttachImage(img, "named");
        var bucket = Assert.Single(_t.Engine.GetBuckets("named"));
        Assert.Equal(type, bucket.FileSystem);
        Assert.Equal(reason, bucket.Error);
        var ex = Assert.Throws<RestoreException>(() => _t.Engine.Mount(bucket.Path));
        Assert.Equal(RestoreErrorCode.MountFailed, ex.Code);
        Assert.Equal($"mounting '{bucket.Path}' failed: {reason}", ex.Message);
    }
}
