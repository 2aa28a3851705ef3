namespace RestoreTools.Engine.Native;

/// <summary>Who this process runs as.</summary>
public static class Identity
{
    public static uint EffectiveUid => Libc.geteuid();

    public static bool IsRoot => EffectiveUid == 0;
}
