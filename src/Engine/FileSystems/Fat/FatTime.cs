namespace RestoreTools.Engine.FileSystems.Fat;

/// <summary>
/// FAT date/time fields to UTC the way Linux's fat_time_fat2unix computes them (tz=UTC): plain arithmetic
/// with month 0 read as 1 and day 0 as 1, so an out-of-range field (month 13, 31 February) gives the same
/// instant the kernel shows instead of an exception.
/// </summary>
internal static class FatTime
{
    private const long SecsPerDay = 86400;
    private const long DaysDelta = 365 * 10 + 2;     // 1970-01-01 to 1980-01-01
    private const int Year2100 = 120;                // 2100 is no leap year
    private static readonly int[] DaysBeforeMonth = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 0, 0, 0];

    public static DateTime ToUtc(ushort time, ushort date, byte centiseconds = 0)
    {
        int year = date >> 9;
        int month = Math.Max(1, (date >> 5) & 0xF);
        int day = Math.Max(1, date & 0x1F) - 1;

        long leapDays = (year + 3) / 4;
        if (year > Year2100) leapDays--;
        if ((year & 3) == 0 && year != Year2100 && month > 2) leapDays++;

        long seconds = (time & 0x1F) << 1;
        seconds += ((time >> 5) & 0x3F) * 60L;
        seconds += (time >> 11) * 3600L;
        seconds += (year * 365L + leapDays + DaysBeforeMonth[month] + day + DaysDelta) * SecsPerDay;

        var t = DateTime.UnixEpoch.AddSeconds(seconds);
        return centiseconds == 0 ? t : t.AddSeconds(centiseconds / 100).AddTicks(centiseconds % 100 * TimeSpan.TicksPerMillisecond * 10);
    }
}
