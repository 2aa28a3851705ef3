using System.Diagnostics;

namespace RestoreTools.Tests.Unit.Support;

/// <summary>Runs the real tools (sfdisk, mkfs.*, blkid, dd) that make and check test images.</summary>
public static class Shell
{
    public static string Run(string script, string? stdin = null)
    {
        var psi = new ProcessStartInfo("/bin/bash", ["-euo", "pipefail", "-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
        };
        psi.Environment["LC_ALL"] = "C";
        using var p = Process.Start(psi)!;
        if (stdin is not null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"'{script}' exited {p.ExitCode}: {stderr.Result}{stdout.Result}");
        return stdout.Result;
    }

    /// <summary>blkid -p -o export as a dictionary (TYPE, LABEL, UUID, ...).</summary>
    public static Dictionary<string, string> Blkid(string device)
    {
        string output;
        try { output = Run($"blkid -p -o export '{device}'"); }
        catch (InvalidOperationException) { return []; } // exit 2: nothing found
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1]);
    }

    public static string Sha256(string file)
    {
        using var s = File.OpenRead(file);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(s));
    }
}
