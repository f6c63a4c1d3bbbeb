using System.CommandLine;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Data;
using Ulmfit.Text;

namespace Ulmfit.Cli.Commands;

/// <summary>`ulmfit tokenize`: a corpus tokenized once into a memory-mappable token store plus its vocabulary.</summary>
internal static class TokenizeCommand
{
    public const string StoreFileName = "tokens.ulmtok";

    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var input = new Option<string>("--input") { Description = "CSV (.csv/.csv.gz), text (.txt/.txt.gz) or a folder of .txt files.", Required = true };
        var outDir = new Option<string>("--out") { Description = "Folder for the token store and vocabulary.", Required = true }.AsFolder();
        var maxVocab = new Option<int>("--max-vocab") { Description = "Largest vocabulary (specials included).", DefaultValueFactory = _ => 60_000 };
        var minFreq = new Option<int>("--min-freq") { Description = "Fewest occurrences for a token to enter the vocabulary.", DefaultValueFactory = _ => 3 };
        var vocab = new Option<string?>("--vocab") { Description = "Use this vocabulary (JSON) instead of building one." };
        var inputs = new InputOptions();
        var command = new Command("tokenize", "Tokenize a corpus into a token store (ids + document offsets), cached by content.")
        {
            input, outDir, maxVocab, minFreq, vocab,
        };
        inputs.AddTo(command);
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, (context, token) =>
        {
            ParseResult parse = context.Parse;
            string folder = parse.GetValue(outDir)!;
            Directory.CreateDirectory(folder);
            string? vocabPath = parse.GetValue(vocab);
            var request = new TokenizeRequest(parse.GetValue(input)!)
            {
                Reader = inputs.Reader(parse),
                Vocabulary = vocabPath == null ? null : Vocabulary.Load(vocabPath),
                VocabularySettings = new VocabularySettings(parse.GetValue(maxVocab), parse.GetValue(minFreq)),
            };
            var progress = new InlineProgress<TokenizeProgress>(p =>
                output.Status($"{p.Phase}: {p.Documents:N0} documents, {p.Tokens:N0} tokens, {p.Tokens / Math.Max(p.Elapsed.TotalSeconds, 1e-9):N0} tokens/s"));
            TokenStoreCacheResult result = TokenStoreCache.GetOrBuild(request, Path.Combine(folder, StoreFileName),
                new UlmfitTokenizer(), new TokenStoreBuilderOptions { Threads = context.Threads, Progress = progress }, token);

            TokenizeSummary s = result.Summary;
            if (s.SkippedRows > 0) output.Info($"warning: skipped {s.SkippedRows:N0} empty rows");
            output.Result($"{(result.CacheHit ? "cached" : "tokenized")}: {s.Documents:N0} documents, {s.Tokens:N0} tokens, " +
                          $"{s.TokensPerSecond:N0} tokens/s, vocabulary {s.VocabSize:N0} -> {result.StorePath}");
            return Task.FromResult(new CommandSummary
            {
                ["documents"] = s.Documents,
                ["tokens"] = s.Tokens,
                ["tokens_per_s"] = Math.Round(s.TokensPerSecond, 1),
                ["vocab_size"] = s.VocabSize,
                ["skipped_rows"] = s.SkippedRows,
                ["unknown_tokens"] = s.UnknownTokens,
                ["from_cache"] = result.CacheHit,
                ["elapsed_s"] = Math.Round(s.Elapsed.TotalSeconds, 3),
                ["store"] = result.StorePath,
                ["vocab"] = result.VocabularyPath,
            });
        }, usesTorch: false);
        return command;
    }
}
