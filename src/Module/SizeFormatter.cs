using System.Globalization;

namespace RestoreTools.Module;

/// <summary>Binary sizes for the format views: 512 B, 256 MiB, 1.5 GiB.</summary>
public static class SizeFormatter
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    public static string Format(long? bytes)
    {
        if (bytes is not long b) return "";
        if (b < 0) return b.ToString(CultureInfo.InvariantCulture);
        double value = b;
        int unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        string number = unit == 0 || value >= 100
            ? Math.Round(value).ToString("0", CultureInfo.InvariantCulture)
            : value.ToString("0.#", CultureInfo.InvariantCulture);
        return $"{number} {Units[unit]}";
    }

    public static string Format(object? bytes) => bytes switch
    {
        null => "",
        long l => Format((long?)l),
        int i => Format((long?)i),
        IConvertible c => Format((long?)c.ToInt64(CultureInfo.InvariantCulture)),
        _ => bytes.ToString() ?? "",
    };
}
