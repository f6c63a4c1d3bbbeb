using Ulmfit.Data;
using Ulmfit.Modeling;
using Ulmfit.Text;
using static TorchSharp.torch;

namespace Ulmfit.Pipeline;

/// <summary>How to sample continuations from a language model.</summary>
public sealed record GenerationOptions
{
    /// <summary>Tokens to generate (markers such as xxmaj count too, as in fastai's predict).</summary>
    public int Tokens { get; init; } = 50;

    /// <summary>Softmax temperature: below 1 sharper (more predictable), above 1 flatter; 0 picks the best token.</summary>
    public double Temperature { get; init; } = 0.75;

    /// <summary>Seed of the sampling generator.</summary>
    public long Seed { get; init; } = 42;

    public void Validate()
    {
        if (Tokens < 1) throw new ArgumentException($"generate at least one token (got {Tokens})");
        if (!(Temperature >= 0) || !double.IsFinite(Temperature)) throw new ArgumentException($"the temperature must be >= 0 (got {Temperature})");
    }
}

/// <summary>
/// Samples text from a language model, to see what it learned. The prompt is fed through the model once (state
/// carried), then one token at a time is drawn from softmax(logits / T), never xxunk or xxpad. A backward model reads
/// the prompt reversed and writes what comes before it; the result is shown in reading order.
/// </summary>
public static class TextGenerator
{
    public static string Generate(AwdLstmLanguageModel model, Vocabulary vocabulary, bool backwards, string prompt, GenerationOptions options,
        UlmfitTokenizer? tokenizer = null)
    {
        options.Validate();
        tokenizer ??= UlmfitTokenizer.Default;
        var promptTokens = tokenizer.Tokenize(prompt).ToList();
        if (backwards) promptTokens.Reverse();
        var generated = new List<string>();
        using var generator = new TorchSharp.torch.Generator((ulong)options.Seed);
        model.Module.eval();
        model.ResetState();
        using (no_grad())
        {
            using var scope = NewDisposeScope();
            var ids = promptTokens.Select(t => (long)vocabulary.Encode(t)).ToArray();
            Tensor logits = model.Forward(tensor(ids).unsqueeze(0)).Logits;      // (1, seq, vocab)
            for (int i = 0; i < options.Tokens; i++)
            {
                using var step = NewDisposeScope();
                var last = logits[0, -1].clone();                                   // (vocab)
                last[SpecialTokens.UnknownId] = float.NegativeInfinity;
                last[SpecialTokens.PaddingId] = float.NegativeInfinity;
                long next = options.Temperature == 0
                    ? last.argmax().item<long>()
                    : multinomial(softmax(last / options.Temperature, 0), 1, generator: generator).item<long>();
                generated.Add(vocabulary.Decode((int)next));
                var nextLogits = model.Forward(tensor(new[] { next }).unsqueeze(0)).Logits.MoveToOuterDisposeScope();
                logits.Dispose(); // only the newest step's scores are needed
                logits = nextLogits;
            }
        }
        model.ResetState();
        var all = promptTokens.Concat(generated).ToList();
        if (backwards) all.Reverse();
        return tokenizer.Decode(all);
    }
}
