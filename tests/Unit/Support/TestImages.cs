namespace RestoreTools.Tests.Unit.Support;

/// <summary>
/// Makes disk images with the real tools, on plain files: a filesystem is made in its own file
/// (mkfs -d / --rootdir fill it from a folder) and copied into a partitioned image with dd.
/// </summary>
public sealed class TestImages : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("rt-img-").FullName;

    /// <summary>A folder tree from (relative path, content) pairs; content "->target" makes a symlink.</summary>
    public string Tree(string name, params (string Path, string Content)[] files)
    {
        string root = Path.Combine(Dir, name);
        Directory.CreateDirectory(root);
        foreach (var (rel, content) in files)
        {
            string full = Path.Combine(root, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            if (content.StartsWith("->")) File.CreateSymbolicLink(full, content[2..]);
            else File.WriteAllText(full, content);
        }
        return root;
    }

    /// <summary>A filesystem image file of the given type, filled from a folder when the tool can.</summary>
    public string FileSystem(string type, int sizeMiB, string label, string? tree = null)
    {
        string file = Path.Combine(Dir, $"{type}-{label}-{Guid.NewGuid():N}.fs");
        Shell.Run($"truncate -s {sizeMiB}M '{file}'");
        switch (type)
        {
            case "ext4" or "ext3" or "ext2":
                Shell.Run($"mkfs.{type} -q -F -L '{label}' {(tree is null ? "" : $"-d '{tree}'")} '{file}'");
                break;
            case "btrfs":
                Shell.Run($"mkfs.btrfs -q -f -L '{label}' {(tree is null ? "" : $"--rootdir '{tree}'")} '{file}'");
                break;
            case "xfs":
                Shell.Run($"mkfs.xfs -q -f -L '{label}' '{file}'");
                if (tree is not null) FillByMount(file, tree);
                break;
            case "vfat":
                Shell.Run($"mkfs.vfat -n '{label}' '{file}' >/dev/null");
                if (tree is not null) Shell.Run($"cd '{tree}' && for f in *; do mcopy -s -i '{file}' \"$f\" ::/; done");
                break;
            default:
                throw new ArgumentException(type);
        }
        return file;
    }

    /// <summary>xfs has no -d: fill the separate filesystem file through a loop mount of its own.</summary>
    private void FillByMount(string fsFile, string tree)
    {
        string mnt = Path.Combine(Dir, "fill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mnt);
        Shell.Run($"mount -o loop '{fsFile}' '{mnt}' && cp -a '{tree}/.' '{mnt}/'; umount '{mnt}'");
    }

    /// <summary>A partitioned image: sfdisk script for the table, then each filesystem copied to its partition.</summary>
    public string Disk(string name, int sizeMiB, string sfdiskScript, params (int Number, string FsFile)[] contents)
    {
        string img = Path.Combine(Dir, name);
        Shell.Run($"truncate -s {sizeMiB}M '{img}'");
        Shell.Run($"sfdisk -q --no-reread --no-tell-kernel '{img}'", sfdiskScript);
        foreach (var (number, fs) in contents)
        {
            long start = long.Parse(Shell.Run($"sfdisk -J '{img}' | python3 -c 'import json,sys; print([p for p in json.load(sys.stdin)[\"partitiontable\"][\"partitions\"] if p[\"node\"].endswith(\"{number}\")][0][\"start\"])'").Trim());
            Shell.Run($"dd if='{fs}' of='{img}' bs=512 seek={start} conv=notrunc status=none");
        }
        return img;
    }

    public void Dispose()
    {
        // rm walks with openat: a tree past PATH_MAX (the hostile samples) defeats Directory.Delete.
        try { Shell.Run($"rm -rf --one-file-system '{Dir}'"); } catch (InvalidOperationException) { }
    }
}
