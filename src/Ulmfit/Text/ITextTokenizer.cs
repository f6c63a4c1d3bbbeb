namespace Ulmfit.Text;

/// <summary>Turns raw text into ULMFiT tokens. Implementations are thread-safe and deterministic.</summary>
public interface ITextTokenizer
{
    /// <summary>Identifies the rules; changes whenever any rule's output could change. Part of every cache key.</summary>
    string Version { get; }

    /// <summary>Tokens of one document, starting with <c>xxbos</c>.</summary>
    IReadOnlyList<string> Tokenize(string text);

    /// <summary>Tokens of a document made of several fields (e.g. title and body): <c>xxbos xxfld 1 … xxfld 2 …</c>.</summary>
    IReadOnlyList<string> TokenizeFields(IReadOnlyList<string> fields);
}
