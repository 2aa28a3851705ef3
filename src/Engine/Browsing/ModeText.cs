namespace RestoreTools.Engine.Browsing;

/// <summary>Permission bits as ls -l prints them.</summary>
public static class ModeText
{
    public static string Format(ItemType type, int mode)
    {
        Span<char> c = stackalloc char[10];
        c[0] = type switch
        {
            ItemType.Directory or ItemType.Disk or ItemType.BucketType or ItemType.Bucket => 'd',
            ItemType.Symlink => 'l',
            ItemType.BlockDevice => 'b',
            ItemType.CharDevice => 'c',
            ItemType.Fifo => 'p',
            ItemType.Socket => 's',
            _ => '-',
        };
        const string rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) c[i + 1] = (mode & (1 << (8 - i))) != 0 ? rwx[i] : '-';
        // setuid, setgid and sticky replace the x of their class, capitalised when x is unset.
        if ((mode & 0x800) != 0) c[3] = c[3] == 'x' ? 's' : 'S';
        if ((mode & 0x400) != 0) c[6] = c[6] == 'x' ? 's' : 'S';
        if ((mode & 0x200) != 0) c[9] = c[9] == 'x' ? 't' : 'T';
        return new string(c);
    }
}
