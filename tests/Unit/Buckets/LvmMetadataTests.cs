using System.Text.Json;
using RestoreTools.Engine.Buckets.Lvm;
using RestoreTools.Engine.Disks;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Buckets;

/// <summary>
/// LVM2 metadata read by the engine from a PV that the real lvm2 tools wrote (device-mapper-free:
/// this kernel has no dm, so nothing is activated), compared with what lvm2's own lvs reports.
/// </summary>
/// <summary>A 64 MiB PV made by lvm2 on a loop device: VG vg-data, LV lv-root (extents 0-2 and 5), LV second (3-4).</summary>
public sealed class LvmSample : IDisposable
{
    public TestImages Images { get; } = new();
    public string Image { get; }
    public JsonElement Lvs { get; }
    public long PeStartBytes { get; }

    public LvmSample()
    {
        Image = Path.Combine(Images.Dir, "pv.img");
        // lvm2 looks at this one loop device only (other tests' PVs may be attached meanwhile), and never at device-mapper.
        string Lvm(string command) => $"lvm {command} -q --nolocking --config \"devices{{use_devicesfile=0 obtain_device_list_from_udev=0 global_filter=[\\\"a|^$L$|\\\",\\\"r|.*|\\\"]}} "
            + "backup{backup=0 archive=0} activation{udev_sync=0 udev_rules=0 monitoring=0} global{use_lvmpolld=0}\"";
        string script = $"export LVM_SUPPRESS_FD_WARNINGS=1; truncate -s 64M '{Image}' && L=$(losetup --find --show '{Image}') && trap 'losetup -d $L' EXIT && "
            + Lvm("pvcreate") + " $L >/dev/null && "
            + Lvm("vgcreate") + " vg-data $L >/dev/null && "
            + Lvm("lvcreate") + " --driverloaded n --activate n -Zn -n lv-root -L 12M vg-data >/dev/null && "
            + Lvm("lvcreate") + " --driverloaded n --activate n -Zn -n second -L 8M vg-data >/dev/null && "
            + Lvm("lvextend") + " --driverloaded n -L +4M vg-data/lv-root >/dev/null && "
            + Lvm("lvs") + " --reportformat json -o lv_name,seg_start_pe,seg_size_pe,seg_pe_ranges 2>/dev/null && echo @@ && "
            + Lvm("pvs") + " --reportformat json -o pe_start --units b --nosuffix 2>/dev/null";
        var parts = Shell.Run(script).Split("@@");
        Lvs = JsonDocument.Parse(parts[0]).RootElement.GetProperty("report")[0].GetProperty("lv").Clone();
        PeStartBytes = long.Parse(JsonDocument.Parse(parts[1]).RootElement.GetProperty("report")[0].GetProperty("pv")[0].GetProperty("pe_start").GetString()!);
    }

    public void Dispose() => Images.Dispose();
}

public sealed class LvmMetadataTests(LvmSample sample) : IDisposable, IClassFixture<LvmSample>
{
    private readonly TestImages _images = new();
    private readonly string _image = sample.Image;
    private readonly JsonElement _lvs = sample.Lvs;

    public void Dispose() => _images.Dispose();

    [Fact]
    public void TheEngineReadsWhatLvm2Wrote()
    {
        using var reader = new FileBlockReader(_image);
        var pv = LvmPhysicalVolume.Read(reader);
        Assert.NotNull(pv);
        Assert.NotNull(pv!.MetadataText);
        var vg = LvmVolumeGroup.Parse(pv.MetadataText!);
        Assert.Equal("vg-data", vg.Name);
        Assert.Equal(8192, vg.ExtentSize);                                  // 4 MiB in sectors
        Assert.Equal(["lv-root", "second"], vg.LogicalVolumes.Select(l => l.Name));
        var pvEntry = Assert.Single(vg.PhysicalVolumes);
        Assert.Equal(pv.Id, pvEntry.Id.Replace("-", ""));
        Assert.Equal(sample.PeStartBytes, pvEntry.PeStart * 512);

        // Every segment where lvs puts it: LV extents and the PV extent range.
        foreach (var row in _lvs.EnumerateArray())
        {
            var lv = vg.LogicalVolumes.Single(l => l.Name == row.GetProperty("lv_name").GetString());
            long start = long.Parse(row.GetProperty("seg_start_pe").GetString()!);
            var seg = lv.Segments.Single(s => s.StartExtent == start);
            Assert.Equal(long.Parse(row.GetProperty("seg_size_pe").GetString()!), seg.ExtentCount);
            string range = row.GetProperty("seg_pe_ranges").GetString()!;            // /dev/loopN:5-5
            Assert.Equal(long.Parse(range[(range.LastIndexOf(':') + 1)..].Split('-')[0]), seg.Stripes.Single().StartExtent);
        }

        Assert.Equal("linear", vg.LogicalVolumes[0].Kind);
        Assert.Null(vg.ContiguousExtent(vg.LogicalVolumes[0]));             // lv-root: extents 0-2 and 5
        var second = vg.ContiguousExtent(vg.LogicalVolumes[1]);             // second: extents 3-4
        Assert.NotNull(second);
        Assert.Equal(pvEntry.PeStart * 512 + 3 * 8192 * 512L, second!.Value.Offset);
        Assert.Equal(2 * 8192 * 512L, second.Value.Length);
    }

    [Fact]
    public void DamagedMetadataIsRefusedNotBelieved()
    {
        string copy = Path.Combine(_images.Dir, "damaged.img");
        File.Copy(_image, copy);
        // Every copy the circular buffer holds (older ones too): the one in use is among them.
        string text = File.ReadAllText(copy, System.Text.Encoding.Latin1);
        using (var f = File.OpenWrite(copy))
        {
            for (int at = text.IndexOf("vg-data {", StringComparison.Ordinal); at >= 0; at = text.IndexOf("vg-data {", at + 1, StringComparison.Ordinal))
            {
                f.Position = at;
                f.Write("vg-DATA"u8);
            }
        }
        using var damaged = new FileBlockReader(copy);
        var ex = Assert.Throws<InvalidDataException>(() => LvmPhysicalVolume.Read(damaged));
        Assert.Contains("checksum", ex.Message);
    }

    [Fact]
    public void ADiskWithoutALabelIsNoPv()
    {
        string plain = Path.Combine(_images.Dir, "plain.img");
        Shell.Run($"truncate -s 1M '{plain}'");
        using var reader = new FileBlockReader(plain);
        Assert.Null(LvmPhysicalVolume.Read(reader));
    }

    [Theory]
    [InlineData("vg { a = 1 ", "without its '}'")]
    [InlineData("vg { a = }", "neither a number")]
    [InlineData("vg { a = \"x }", "closing")]
    [InlineData("vg { a = [1 2] }", "without ','")]
    [InlineData("} x", "without its section")]
    public void TheTextParserNamesWhatIsWrong(string text, string what) =>
        Assert.Contains(what, Assert.Throws<InvalidDataException>(() => LvmText.Parse(text)).Message);

    [Fact]
    public void MutatedMetadataTextIsReadOrRefusedNeverCrashes()
    {
        using var reader = new FileBlockReader(_image);
        string text = LvmPhysicalVolume.Read(reader)!.MetadataText!;
        var random = new Random(20261127);
        const string Tokens = "{}[]=,\"#\n 0123456789-abc.";
        for (int i = 0; i < 5000; i++)
        {
            var chars = text.ToCharArray().ToList();
            for (int m = random.Next(1, 6); m > 0 && chars.Count > 0; m--)
            {
                int at = random.Next(chars.Count);
                switch (random.Next(4))
                {
                    case 0: chars[at] = Tokens[random.Next(Tokens.Length)]; break;
                    case 1: chars.RemoveAt(at); break;
                    case 2: chars.Insert(at, Tokens[random.Next(Tokens.Length)]); break;
                    default: chars.RemoveRange(at, chars.Count - at); break;
                }
            }
            try
            {
                var vg = LvmVolumeGroup.Parse(new string([.. chars]));
                foreach (var lv in vg.LogicalVolumes) { _ = vg.ContiguousExtent(lv); _ = lv.Kind; }
            }
            catch (InvalidDataException) { }
        }
    }

    [Fact]
    public void TheTextParserReadsStringsListsAndSections()
    {
        var root = LvmText.Parse("# comment\ncontents = \"Text Format\"\nvg-x {\n id = \"a\\\"b\"\n seqno = 7\n status = [\"READ\", \"WRITE\"]\n pvs { pv0 { pe_start = 2048 } }\n}\n");
        Assert.Equal("Text Format", root.Str("contents"));
        var (name, vg) = root.Sections.Single();
        Assert.Equal("vg-x", name);
        Assert.Equal("a\"b", vg.Str("id"));
        Assert.Equal(7, vg.Num("seqno"));
        Assert.Equal(["READ", "WRITE"], vg.List("status")!.Cast<string>());
        Assert.Equal(2048, vg.Sub("pvs")!.Sub("pv0")!.Num("pe_start"));
    }
}
