using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Agent;

/// <summary>
/// The images the agent tests attach: "files", an unpartitioned ext4 with small files, a symlink,
/// a 24 MiB random file and a folder of 100,000 empty files; "gpt", two ext4 partitions.
/// </summary>
public sealed class AgentImages : IDisposable
{
    public const int ManyCount = 100_000;
    public TestImages Images { get; } = new();
    public string Tree { get; }
    public string FilesImage { get; }
    public string GptImage { get; }
    public string BigFile => Path.Combine(Tree, "data/big.bin");

    public AgentImages()
    {
        Tree = Images.Tree("files",
            ("a.txt", "alpha\n"),
            ("data/notes.txt", "one\ntwo\nthree\n"),
            ("data/deep/er/leaf.txt", "leaf"),
            ("data/link", "->../a.txt"),
            ("docs/readme.md", "# readme\n"));
        Shell.Run($"head -c {24 << 20} /dev/urandom > '{BigFile}'");
        FilesImage = Path.Combine(Images.Dir, "files.img");
        Shell.Run($"truncate -s 160M '{FilesImage}' && mkfs.ext4 -q -F -N 120000 -L lbl -d '{Tree}' '{FilesImage}'");
        // mke2fs -d fills a folder in quadratic time: the 100,000 files go in through the kernel (htree).
        string mnt = Path.Combine(Images.Dir, "fill");
        Directory.CreateDirectory(mnt);
        Shell.Run($"mount -o loop '{FilesImage}' '{mnt}' && (mkdir '{mnt}/many' && cd '{mnt}/many' && seq -f 'f%06g' {ManyCount} | xargs touch); umount '{mnt}'");
        Shell.Run($"mkdir '{Tree}/many'");   // the tree mirrors the image's folders (its files are not needed)

        var p1 = Images.FileSystem("ext4", 16, "first", Images.Tree("p1", ("one.txt", "partition one\n")));
        var p2 = Images.FileSystem("ext4", 16, "second", Images.Tree("p2", ("two/two.txt", "partition two\n")));
        GptImage = Images.Disk("gpt.img", 40,
            "label: gpt\nsize=16MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=first\nsize=16MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=second\n",
            (1, p1), (2, p2));
    }

    public string[] ImageArgs => ["--image", "files=" + FilesImage, "--image", "gpt=" + GptImage];

    public void Dispose() => Images.Dispose();
}
