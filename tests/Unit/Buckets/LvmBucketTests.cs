using System.Text.Json;
using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Buckets;

/// <summary>
/// A GPT disk whose second partition is an LVM2 PV made by the real lvm2 tools: lv-root (one
/// contiguous run, ext4 filled through its byte offset), spacer (no filesystem) and split (two
/// runs). This host has no device-mapper: lv-root is read through a loop at its offset, split
/// says it needs device-mapper.
/// </summary>
public sealed class LvmBucketTests : IDisposable
{
    private readonly TestImages _images = new();

    public void Dispose() => _images.Dispose();

    private string MakeDisk()
    {
        string img = Path.Combine(_images.Dir, "lvm-disk.img");
        var root = _images.FileSystem("ext4", 12, "lvroot", _images.Tree("r", ("etc/hostname", "on-an-lv\n")));
        var p1 = _images.FileSystem("ext4", 8, "boot", _images.Tree("b", ("boot.txt", "boot\n")));
        img = _images.Disk("lvm-disk.img", 96, "label: gpt\nsize=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\nsize=64MiB, type=E6D6D379-F507-44C2-A23C-238F2A3DF928\n", (1, p1));
        long p2 = long.Parse(Shell.Run($"sfdisk -J '{img}' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"partitiontable\"][\"partitions\"][1][\"start\"])'").Trim()) * 512;
        string Lvm(string command) => $"lvm {command} -q --nolocking --config \"devices{{use_devicesfile=0 obtain_device_list_from_udev=0 global_filter=[\\\"a|^$L$|\\\",\\\"r|.*|\\\"]}} "
            + "backup{backup=0 archive=0} activation{udev_sync=0 udev_rules=0 monitoring=0} global{use_lvmpolld=0}\"";
        string json = Shell.Run($"export LVM_SUPPRESS_FD_WARNINGS=1; L=$(losetup --find --show --offset {p2} --sizelimit {64 << 20} '{img}') && trap 'losetup -d $L' EXIT && "
            + Lvm("pvcreate") + " $L >/dev/null && " + Lvm("vgcreate") + " vg-data $L >/dev/null && "
            + Lvm("lvcreate") + " --driverloaded n --activate n -Zn -n lv-root -L 12M vg-data >/dev/null && "
            + Lvm("lvcreate") + " --driverloaded n --activate n -Zn -n split -L 4M vg-data >/dev/null && "
            + Lvm("lvcreate") + " --driverloaded n --activate n -Zn -n spacer -L 4M vg-data >/dev/null && "
            + Lvm("lvextend") + " --driverloaded n -L +4M vg-data/split >/dev/null && "
            + Lvm("pvs") + " --reportformat json -o pe_start --units b --nosuffix 2>/dev/null");
        long peStart = long.Parse(JsonDocument.Parse(json).RootElement.GetProperty("report")[0].GetProperty("pv")[0].GetProperty("pe_start").GetString()!);
        // lv-root is the first LV: extents 0-2 (4 MiB extents), right at pe_start.
        Shell.Run($"dd if='{root}' of='{img}' bs=1M seek={(p2 + peStart) >> 20} conv=notrunc status=none");
        return img;
    }

    [Fact]
    public void LogicalVolumesAreBucketsAndALinearOneIsReadOnThisHost()
    {
        string img = MakeDisk();
        string sha = Shell.Sha256(img);
        using (var t = new TestEngine())
        {
            t.Engine.AttachImage(img, "d");
            var buckets = t.Engine.GetBuckets("d");
            Assert.Equal(["part", "part", "lvm", "lvm", "lvm"], buckets.Select(b => b.Type));
            var lv = buckets.Single(b => b.Path == "/d/lvm/vg-data/lv-root");
            Assert.Equal("ext4", lv.FileSystem);
            Assert.Equal("lvroot", lv.Label);
            Assert.Equal(12L << 20, lv.Size);
            Assert.Contains("a linear LV in 2 runs", buckets.Single(b => b.Path == "/d/lvm/vg-data/split").Error);
            Assert.Contains("needs device-mapper", buckets.Single(b => b.Path == "/d/lvm/vg-data/split").Error);
            Assert.Equal("no known filesystem signature", buckets.Single(b => b.Path == "/d/lvm/vg-data/spacer").Error);

            // Partial paths list VGs, then LVs; a full path reads a file on the LV.
            Assert.Equal(["vg-data"], t.Engine.List("/d/lvm").Select(i => i.Name));
            Assert.Equal(["lv-root", "spacer", "split"], t.Engine.List("/d/lvm/vg-data").Select(i => i.Name).Order(StringComparer.Ordinal));
            using (var reader = new StreamReader(t.Engine.OpenRead("/d/lvm/vg-data/lv-root/etc/hostname")))
                Assert.Equal("on-an-lv\n", reader.ReadToEnd());
            var ex = Assert.Throws<RestoreException>(() => t.Engine.List("/d/lvm/vg-data/split").ToList());
            Assert.Equal(RestoreErrorCode.MountFailed, ex.Code);
            t.Engine.DetachImage("d");
        }
        // Other sessions make loop devices meanwhile: only those over this image count.
        Assert.Equal("0", Shell.Run($"losetup -j '{img}' | wc -l").Trim());
        Assert.Equal(sha, Shell.Sha256(img));
    }
}
