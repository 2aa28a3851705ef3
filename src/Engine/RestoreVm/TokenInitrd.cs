using System.Text;

namespace RestoreTools.Engine.RestoreVm;

/// <summary>
/// The per-start initramfs: the base image followed by a second, uncompressed cpio archive
/// holding /restore/token (mode 0400). The kernel unpacks concatenated archives in turn, so the
/// token reaches the guest without touching the base image or any disk image.
/// </summary>
public static class TokenInitrd
{
    public static void Write(string baseInitrd, string token, string output)
    {
        using var outStream = new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None);
        File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using (var input = File.OpenRead(baseInitrd)) input.CopyTo(outStream);
        // cpio archives start on a 4-byte boundary.
        while (outStream.Position % 4 != 0) outStream.WriteByte(0);
        WriteEntry(outStream, "restore", 0x41ED /* dir 0755 */, []);
        WriteEntry(outStream, "restore/token", 0x8100 /* file 0400 */, Encoding.ASCII.GetBytes(token));
        WriteEntry(outStream, "TRAILER!!!", 0, []);
        while (outStream.Position % 512 != 0) outStream.WriteByte(0);
    }

    /// <summary>One "newc" entry: a 110-byte ASCII header, the NUL-terminated name and the data, each padded to 4.</summary>
    private static void WriteEntry(Stream s, string name, int mode, byte[] data)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        var header = new StringBuilder("070701");
        int[] fields = [0, mode, 0, 0, mode == 0 ? 1 : (mode & 0x4000) != 0 ? 2 : 1, 0, data.Length, 0, 0, 0, 0, nameBytes.Length, 0];
        foreach (int f in fields) header.Append(f.ToString("X8"));
        s.Write(Encoding.ASCII.GetBytes(header.ToString()));
        s.Write(nameBytes);
        Pad(s, 110 + nameBytes.Length);
        s.Write(data);
        Pad(s, data.Length);
    }

    private static void Pad(Stream s, int length)
    {
        for (int i = length; i % 4 != 0; i++) s.WriteByte(0);
    }
}
