using Microsoft.Win32.SafeHandles;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Disks;

/// <summary>
/// Opens the file behind an image path for a loop device. It never blocks and never opens anything
/// but a regular file or a block device: the path is first held with O_PATH and looked at, so a
/// FIFO, socket, folder or character device is refused by name before any open(2) could wait on
/// it or wake a driver. With an image root, the path must lie inside it and is walked one name at
/// a time from the root with O_NOFOLLOW, so no symlink (and no ".." through one) can lead out.
/// </summary>
internal static class ImageFileOpener
{
    public static SafeFileHandle Open(string imagePath, string? root)
    {
        string full = root is null ? Path.GetFullPath(imagePath) : Path.GetFullPath(imagePath, root);
        try
        {
            using var held = root is null ? ImageFiles.OpenPath(full) : WalkBeneath(Path.GetFullPath(root), full, imagePath);
            var before = ImageFiles.Identify(held, imagePath);
            RequireAttachable(before.Kind, imagePath);
            var file = ImageFiles.ReopenForReading(held, imagePath);
            // Same inode by construction (the reopen goes through the held descriptor); checked all the same.
            if (ImageFiles.Identify(file, imagePath) != before)
            {
                file.Dispose();
                throw new RestoreException(RestoreErrorCode.AttachFailed, $"'{imagePath}' changed while it was being opened", imagePath);
            }
            return file;
        }
        catch (NativeException ex) when (ex.Errno is Sys.ENOENT or Sys.ENOTDIR)
        {
            throw new RestoreException(RestoreErrorCode.ImageNotFound, $"image '{imagePath}' not found", imagePath, ex);
        }
        catch (NativeException ex)
        {
            throw new RestoreException(RestoreErrorCode.AttachFailed, $"opening image '{imagePath}' failed: {ex.Message}", imagePath, ex);
        }
    }

    private static void RequireAttachable(Stat.Kind kind, string imagePath)
    {
        if (kind is Stat.Kind.File or Stat.Kind.BlockDevice) return;
        string what = kind switch
        {
            Stat.Kind.Fifo => "a FIFO (named pipe)",
            Stat.Kind.Socket => "a socket",
            Stat.Kind.CharDevice => "a character device",
            Stat.Kind.Directory => "a folder",
            Stat.Kind.Symlink => "a symlink",
            _ => "not a regular file",
        };
        throw new RestoreException(RestoreErrorCode.NotAFile,
            $"'{imagePath}' is {what}: only a regular file or a block device can be attached as an image", imagePath);
    }

    /// <summary>An O_PATH handle on full, reached from root one name at a time without following any symlink.</summary>
    private static SafeFileHandle WalkBeneath(string root, string full, string imagePath)
    {
        string rel = Path.GetRelativePath(root, full);
        if (rel == ".." || rel.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(rel))
            throw new RestoreException(RestoreErrorCode.InvalidPath,
                $"'{imagePath}' is outside the image root '{root}': this agent attaches images from there only", imagePath);

        var current = ImageFiles.OpenDirectory(root);
        try
        {
            var names = rel == "." ? [] : rel.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (int i = 0; i < names.Length; i++)
            {
                string shown = Path.Combine(root, string.Join('/', names.Take(i + 1)));
                var next = ImageFiles.OpenPathNoFollow(current, names[i], shown);
                current.Dispose();
                current = next;
                var kind = ImageFiles.Identify(current, shown).Kind;
                if (kind == Stat.Kind.Symlink)
                    throw new RestoreException(RestoreErrorCode.InvalidPath,
                        $"'{imagePath}': '{shown}' is a symlink; inside the image root symlinks are not followed", imagePath);
                if (i < names.Length - 1 && kind != Stat.Kind.Directory)
                    throw new RestoreException(RestoreErrorCode.ImageNotFound, $"image '{imagePath}' not found ('{shown}' is not a folder)", imagePath);
            }
            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }
}
