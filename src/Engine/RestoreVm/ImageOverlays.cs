using System.Diagnostics;

namespace RestoreTools.Engine.RestoreVm;

/// <summary>
/// Throw-away copy-on-write overlays, one per image, in the VM's own folder: the guest sees a
/// writable disk, so ext3/4 and xfs replay a dirty journal or log when mounted (crash-consistent
/// backups of running VMs show the files written just before them), while the image itself is
/// opened read-only below the overlay and stays byte for byte as it was. The folder, overlays
/// included, goes when the VM stops.
/// </summary>
internal static class ImageOverlays
{
    /// <summary>The overlay file for image i, made by qemu-img over the image's format.</summary>
    public static string Create(string vmDir, int i, RestoreVmImage image)
    {
        string overlay = Path.Combine(vmDir, $"overlay{i}.qcow2");
        var psi = new ProcessStartInfo("qemu-img") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "create", "-q", "-f", "qcow2", "-F", image.Format, "-b", Path.GetFullPath(image.Path), overlay })
            psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new RestoreException(RestoreErrorCode.VmStartFailed, $"the overlay of '{image.Name}' could not be made: {err.Trim()}", image.Path);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new RestoreException(RestoreErrorCode.VmStartFailed, $"qemu-img (qemu-utils) is needed for the restore VM's overlays: {ex.Message}", image.Path, ex);
        }
        return overlay;
    }

    /// <summary>
    /// qemu -blockdev arguments: the image read-only, and (unless noRecovery) the overlay over it
    /// as node d{i}; with noRecovery the read-only image itself is d{i}.
    /// </summary>
    public static IEnumerable<string> BlockdevArguments(int i, RestoreVmImage image, string? overlay)
    {
        // qemu's option syntax splits on commas: a comma in a path is doubled.
        static string Q(string s) => s.Replace(",", ",,");
        if (image.Writable)
        {
            // Always raw: a writable disk is never probed (a guest could write a qcow2 header into it).
            yield return "-blockdev";
            yield return $"driver=file,node-name=f{i},filename={Q(Path.GetFullPath(image.Path))}";
            yield return "-blockdev";
            yield return $"driver=raw,node-name=d{i},file=f{i}";
            yield break;
        }
        yield return "-blockdev";
        yield return $"driver=file,node-name=f{i},filename={Q(Path.GetFullPath(image.Path))},read-only=on";
        yield return "-blockdev";
        yield return $"driver={image.Format},node-name={(overlay is null ? $"d{i}" : $"b{i}")},file=f{i},read-only=on";
        if (overlay is null) yield break;
        yield return "-blockdev";
        yield return $"driver=qcow2,node-name=d{i},file.driver=file,file.filename={Q(overlay)},backing=b{i}";
    }
}
