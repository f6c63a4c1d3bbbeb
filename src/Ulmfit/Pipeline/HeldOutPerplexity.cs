using Ulmfit.Data;
using Ulmfit.Modeling;
using Ulmfit.Text;
using Ulmfit.Training;

namespace Ulmfit.Pipeline;

/// <summary>
/// A language model's loss, perplexity and next-token accuracy on held-out text (a corpus's test file, say), the way
/// training measures its validation text: the text tokenized with the model's own vocabulary (unknown words become
/// xxunk and count), read in fixed BPTT windows in file order, in the model's direction.
/// </summary>
public static class HeldOutPerplexity
{
    /// <summary>Measures the language-model package <paramref name="modelPath"/> on <paramref name="input"/>.</summary>
    /// <returns>The result and the number of tokens scored.</returns>
    public static (ValidationResult Result, long Tokens) Measure(string modelPath, string input, DocumentReaderOptions? reader = null,
        int bptt = Ulmfit.Training.LanguageModelBatcherOptions.DefaultBptt, int batchSize = 64, int threads = 0, CancellationToken cancellationToken = default)
    {
        var (model, vocabulary, manifest) = LanguageModelFolder.Load(modelPath, AwdLstmDropouts.None);
        using var _ = model;
        // The token store is a scratch file: tokenizing with a fixed vocabulary is quick, and keeping it would leave
        // files in a folder the user did not name.
        string scratch = Directory.CreateTempSubdirectory("ulmfit-perplexity-").FullName;
        try
        {
            var request = new TokenizeRequest(input) { Reader = (reader ?? new DocumentReaderOptions()) with { LabelRequired = false }, Vocabulary = vocabulary };
            var built = TokenStoreCache.GetOrBuild(request, Path.Combine(scratch, "held-out.ulmtok"), UlmfitTokenizer.Default,
                new TokenStoreBuilderOptions { Threads = threads <= 0 ? Environment.ProcessorCount : threads }, cancellationToken);
            using var store = TokenStore.Open(built.StorePath, vocabulary);
            var batching = new LanguageModelBatcherOptions { Bptt = bptt, BatchSize = batchSize, Backwards = manifest.Architecture.Backwards };
            var result = LanguageModelEvaluator.Evaluate(model, store, batching, cancellationToken);
            return (result, store.TokenCount);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
