using System.CommandLine;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.IO;

namespace Ulmfit.Cli.Commands;

/// <summary>`ulmfit import-fastai`: a fastai AWD-LSTM language model (e.g. WikiText-103 wt103-fwd/bwd) into our
/// package format, read with a restricted unpickler that executes nothing.</summary>
internal static class ImportFastaiCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var weights = new Option<string>("--weights") { Description = "fastai/PyTorch state dict (.pth, zip or legacy format).", Required = true };
        var vocab = new Option<string>("--vocab") { Description = "fastai vocabulary pickle (itos_*.pkl, a list of strings).", Required = true };
        var outDir = new Option<string>("--out") { Description = "Folder for the language-model package.", Required = true }.AsFolder();
        var backwards = new Option<bool>("--backwards") { Description = "The model was trained on reversed text (wt103-bwd)." };
        var command = new Command("import-fastai", "Import a fastai AWD-LSTM language model (weights .pth + vocabulary .pkl).") { weights, vocab, outDir, backwards };
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, (context, _) =>
        {
            var parse = context.Parse;
            using var imported = FastaiImporter.Import(parse.GetValue(weights)!, parse.GetValue(vocab)!);
            var manifest = imported.CreateManifest();
            if (parse.GetValue(backwards)) manifest = manifest with { Architecture = manifest.Architecture with { Backwards = true } };
            manifest = ModelPackage.Save(parse.GetValue(outDir)!, manifest, imported.Vocabulary, imported.StateDict);
            var a = manifest.Architecture;
            foreach (string change in imported.VocabularyChanges) output.Info("vocabulary: " + change);
            output.Result($"imported {imported.SourceFormat} state dict{(imported.WasWrapped ? " (wrapped)" : "")}: vocabulary {a.VocabSize:N0}, " +
                          $"AWD-LSTM {a.EmbeddingSize}/{a.HiddenSize}/{a.Layers}, {manifest.Weights!.Tensors} tensors -> {parse.GetValue(outDir)}");
            return Task.FromResult(new CommandSummary
            {
                ["tensors"] = manifest.Weights.Tensors,
                ["vocab_size"] = manifest.Vocabulary!.Size,
                ["emb"] = a.EmbeddingSize, ["hidden"] = a.HiddenSize, ["layers"] = a.Layers,
                ["source_format"] = imported.SourceFormat, ["wrapped"] = imported.WasWrapped,
                ["ignored_keys"] = imported.IgnoredKeys.ToList(),
            });
        });
        return command;
    }
}
