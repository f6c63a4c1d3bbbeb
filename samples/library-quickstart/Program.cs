// Trains a support-ticket classifier with Ulmfit.NET's defaults (the shipped English language models, fine-tuned on
// the tickets, then the forward + backward classifiers) and prints a few predictions.
// Usage: dotnet run [-- [DATA_FOLDER [OUTPUT_FOLDER]] [--quick]]   (default: ../support-tickets beside this project)
// --quick trains the forward direction only and skips LM fine-tuning: a minute instead of several (the packaging test).
using Ulmfit.Engine;
using Ulmfit.Pipeline;

bool quick = args.Contains("--quick");
string[] folders = [.. args.Where(a => a != "--quick")];
string data = folders.Length > 0 ? folders[0] : Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "support-tickets");
string output = folders.Length > 1 ? folders[1] : Path.Combine(Path.GetTempPath(), "ulmfit-quickstart-model");
string train = Path.Combine(data, "train.csv");
if (!File.Exists(train))
{
    Console.Error.WriteLine($"quickstart: {train} not found; pass the folder holding train.csv (samples/support-tickets)");
    return 2;
}

var progress = new Progress<FitProgress>(p =>
{
    if (p.Warning is { } warning) Console.Error.WriteLine($"warning: {warning}");
});
var options = new FitOptions { Train = train, OutputDirectory = output };
if (quick) options = options with { BackwardLanguageModel = null, LanguageModelEpochs = 0 };
var fit = await ClassifierPipeline.FitAsync(options, progress);
Console.WriteLine(fit.Recipe.Describe());

using var model = FittedModel.Load(output);
string[] tickets =
[
    "I was charged twice for my order this month",
    "The parcel still has not arrived after two weeks",
    "How do I change the email address on my account?",
];
var predictions = model.Predict(tickets);
for (int i = 0; i < tickets.Length; i++)
    Console.WriteLine($"{predictions[i].Label,-10} {predictions[i].Probabilities.Max():P0}  {tickets[i]}");
// The package's native int8 kernel (runtimes/linux-x64/native): FittedModel.Load's "auto" uses it where the CPU can.
Console.WriteLine(Int8LstmLibrary.IsAvailable ? "int8 kernel: loaded" : $"int8 kernel: {Int8LstmLibrary.WhyUnavailable}");
return 0;
