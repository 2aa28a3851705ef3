namespace RestoreTools.Engine.Mounting;

/// <summary>The filesystems served from user space, by the name the mounter tries them under.</summary>
internal static class UserSpaceDrivers
{
    public static bool Handles(string type) => type is Ntfs3gMount.Type or FatFuseMount.Type;

    public static bool CanServe(string type) => type switch
    {
        Ntfs3gMount.Type => Ntfs3gMount.CanServe,
        FatFuseMount.Type => FatFuseMount.CanServe,
        _ => false,
    };

    /// <summary>Mounts device read-only on mountPoint; null and why when the driver cannot.</summary>
    /// <param name="warn">Told why a file or folder failed, where the driver knows more than EIO says.</param>
    public static IServedMount? TryMount(string type, string device, string mountPoint, Action<string>? warn, out string? failure) => type switch
    {
        Ntfs3gMount.Type => Ntfs3gMount.TryMount(device, mountPoint, out failure),
        FatFuseMount.Type => FatFuseMount.TryMount(device, mountPoint, warn, out failure),
        _ => throw new ArgumentException($"not a user-space driver: {type}", nameof(type)),
    };
}
