using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;

namespace RestoreTools.Module;

/// <summary>Turns -Encoding names (utf8, utf8NoBOM, ascii, unicode, latin1, a code page) into an Encoding.</summary>
public sealed class EncodingTransformationAttribute : ArgumentTransformationAttribute
{
    public static readonly string[] Names = ["ascii", "bigendianunicode", "bigendianutf32", "latin1", "oem", "unicode", "utf7", "utf8", "utf8BOM", "utf8NoBOM", "utf32"];

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject pso ? pso.BaseObject : inputData;
        return value switch
        {
            Encoding e => e,
            int cp => Encoding.GetEncoding(cp),
            string s => FromName(s),
            _ => inputData,
        };
    }

    public static Encoding FromName(string name) => name.ToLowerInvariant() switch
    {
        "ascii" => Encoding.ASCII,
        "bigendianunicode" => Encoding.BigEndianUnicode,
        "bigendianutf32" => new UTF32Encoding(bigEndian: true, byteOrderMark: true),
        "latin1" => Encoding.Latin1,
        "oem" => Encoding.Default,
        "unicode" => Encoding.Unicode,
        "utf7" => Encoding.UTF8, // UTF-7 is obsolete in .NET; read as UTF-8
        "utf8" or "utf8bom" or "utf8nobom" or "default" => new UTF8Encoding(false),
        "utf32" => Encoding.UTF32,
        _ => int.TryParse(name, out int cp) ? Encoding.GetEncoding(cp) : Encoding.GetEncoding(name),
    };
}

/// <summary>Offers the -Encoding names.</summary>
public sealed class EncodingCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        EncodingTransformationAttribute.Names
            .Where(n => n.StartsWith((wordToComplete ?? "").Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
}
