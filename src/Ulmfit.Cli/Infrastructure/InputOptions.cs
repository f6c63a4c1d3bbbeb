using System.CommandLine;
using Ulmfit.Data;

namespace Ulmfit.Cli.Infrastructure;

/// <summary>How commands that read text files interpret them (shared CLI contract).</summary>
public sealed class InputOptions
{
    public Option<string[]> TextColumns { get; } = new("--text-column")
    {
        Description = "CSV column(s) holding the text; several are joined as fields (xxfld 1 … xxfld 2 …). Default: text.",
        AllowMultipleArgumentsPerToken = true,
    };

    public Option<string?> LabelColumn { get; } = new("--label-column")
    {
        Description = "CSV column holding the label. Default: label.",
    };

    public Option<bool> LinePerDocument { get; } = new("--line-per-document")
    {
        Description = "Plain-text input: every line is a document (default: blocks separated by a blank line).",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(TextColumns);
        command.Options.Add(LabelColumn);
        command.Options.Add(LinePerDocument);
    }

    /// <summary>The reader settings; labels are required when <paramref name="labelsRequired"/> or the user named the column.</summary>
    public DocumentReaderOptions Reader(ParseResult parse, bool labelsRequired = false)
    {
        string[] text = parse.GetValue(TextColumns) ?? [];
        string? label = parse.GetValue(LabelColumn);
        var options = new DocumentReaderOptions
        {
            TextColumns = text.Length > 0 ? text : ["text"],
            LabelColumn = label ?? "label",
            LabelRequired = labelsRequired || label != null,
            LinePerDocument = parse.GetValue(LinePerDocument),
        };
        options.Validate();
        return options;
    }
}
