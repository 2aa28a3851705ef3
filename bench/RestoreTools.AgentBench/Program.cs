using System.Globalization;
using System.Text;
using RestoreTools.AgentBench;

// RestoreTools.AgentBench agent --agent EXE --image IMG --work DIR [--out FILE]... [--repeat N] [--requests N] [--only abcd]
// RestoreTools.AgentBench vmio --kernel F --initrd F --work DIR [--rounds N] [--fat 0|1] [--transport auto|tcp|virtio-serial] [--cpus N]
// RestoreTools.AgentBench vm --kernel F --initrd F --image IMG --work DIR [--out FILE]... [--boots N] [--repeat N]
// Prints the table; exit 0 whether goals pass or not, non-zero only when something broke.

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 0 || args[0] is not ("agent" or "vm" or "vmio")) { Console.Error.WriteLine("usage: RestoreTools.AgentBench agent|vm ..."); return 2; }
string mode = args[0];
var opt = new Dictionary<string, string>();
var outs = new List<string>();
for (int i = 1; i < args.Length; i++)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length) { Console.Error.WriteLine($"bad argument '{args[i]}'"); return 2; }
    if (args[i] == "--out") outs.Add(args[++i]); else opt[args[i][2..]] = args[++i];
}
string Need(string k) => opt.TryGetValue(k, out var v) ? v : throw new ArgumentException($"--{k} is required");
int Int(string k, int d) => opt.TryGetValue(k, out var v) ? int.Parse(v) : d;
string repo = opt.GetValueOrDefault("repo", AppContext.BaseDirectory);

string loadStart = File.ReadAllText("/proc/loadavg").Trim();
Table table;
List<string> notes;
string title;
if (mode == "agent")
{
    var b = new AgentBench(Need("agent"), Need("image"), Need("work"), Int("repeat", 5), Int("requests", 10_000), opt.GetValueOrDefault("only", "abcd"));
    b.Run();
    (table, notes, title) = (b.Table, b.Notes, "RestoreTools agent benchmark (issue 5)");
}
else if (mode == "vmio")
{
    var b = new VmIoBench(Need("kernel"), Need("initrd"), Need("work"), Int("rounds", 3), Int("fat", 1) != 0, opt.GetValueOrDefault("transport", "auto"),
        opt.TryGetValue("cpus", out var cpus) ? int.Parse(cpus) : null);
    b.Run();
    (table, notes, title) = (b.Table, b.Notes, "RestoreTools restore VM transfer benchmark (issue 15)");
}
else
{
    var b = new VmBench(Need("kernel"), Need("initrd"), Need("image"), Need("work"), Int("boots", 5), Int("repeat", 3), Int("compare", 3), Need("repo"));
    b.Run();
    (table, notes, title) = (b.Table, b.Notes, "RestoreTools restore VM benchmark (issue 6)");
}

var sb = new StringBuilder();
sb.Append(Sh.Header(title, repo));
sb.AppendLine($"load at start {loadStart}, at end {File.ReadAllText("/proc/loadavg").Trim()}");
sb.AppendLine();
sb.Append(table.Render());
sb.AppendLine();
foreach (var n in notes) sb.AppendLine(n);
string text = sb.ToString();
Console.Write(text);
foreach (var o in outs)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(o))!);
    File.WriteAllText(o, text);
}
return 0;
