using Ulmfit.Text;

namespace Ulmfit.Data;

/// <summary>The one rule for turning a <see cref="TextDocument"/> into tokens, shared by training and prediction.</summary>
public static class DocumentTokenization
{
    /// <summary>
    /// A single field is tokenized as plain text; several fields get <c>xxfld</c> markers, as fastai does when
    /// more than one text column is given.
    /// </summary>
    public static IReadOnlyList<string> Tokenize(this ITextTokenizer tokenizer, TextDocument document) =>
        document.Fields.Count == 1 ? tokenizer.Tokenize(document.Fields[0]) : tokenizer.TokenizeFields(document.Fields);
}
