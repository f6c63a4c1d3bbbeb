using System.Globalization;

namespace Ulmfit.Pipeline;

/// <summary>
/// The classifier recipe <c>fit</c> sizes to the data: batch size, how the layer groups are released, how many epochs
/// (from a floor on optimizer steps), and how the model is selected. Every setting the caller gave in
/// <see cref="FitOptions"/> is kept; the rest follow the rules below, each with the measurement it came from
/// (docs/results.md, "Low-shot recipe"). <see cref="Reasons"/> says what was chosen and why, for the summary.
/// </summary>
/// <param name="BatchSize">Documents per classifier batch (and LM fine-tuning's parallel streams).</param>
/// <param name="Unfreezing">How the pretrained layer groups are released.</param>
/// <param name="FinalStageEpochs">What <see cref="FitOptions.Epochs"/> means: epochs of gradual unfreezing's last stage
/// (the three before take one each), or "all"/"last" training's epochs beyond 3.</param>
/// <param name="ValidFraction">Share of the training documents held out for best-epoch selection; 0 trains on every
/// labelled document for a fixed schedule.</param>
/// <param name="Selection">How the saved epoch is chosen, in words.</param>
/// <param name="LanguageModelEpochs">LM fine-tuning epochs with everything training.</param>
/// <param name="PlannedSteps">Classifier optimizer steps the schedule plans (before any early stop).</param>
/// <param name="Profile">The data the recipe was sized by.</param>
/// <param name="Reasons">Each choice and why, in words.</param>
/// <param name="PseudoLabelsPerClass">Self-training: pseudo-labelled documents per class added for a second classifier;
/// 0 is no self-training.</param>
/// <param name="PseudoLabelCandidates">Self-training: unlabelled documents the first model labels to choose from.</param>
/// <param name="LanguageModelMaxTokensPerEpoch">Cap on LM fine-tuning's tokens an epoch; null reads all the text.</param>
public sealed record FitRecipe(int BatchSize, UnfreezingMode Unfreezing, int FinalStageEpochs, double ValidFraction, string Selection,
    int LanguageModelEpochs, long PlannedSteps, DataProfile Profile, IReadOnlyList<string> Reasons,
    int PseudoLabelsPerClass = 0, int PseudoLabelCandidates = 0, long? LanguageModelMaxTokensPerEpoch = null)
{
    /// <summary>With unlabelled text, LM fine-tuning reads at most this many tokens an epoch unless told otherwise:
    /// IMDb's 50,000 unlabelled reviews are about 15 M tokens, and one LSTM direction fine-tunes at about 1,000 tokens/s
    /// a core on an AVX2 server, so all of them would take hours an epoch; a million is about 17 minutes.</summary>
    public const long UnlabelledTokenCap = 1_000_000;

    /// <summary>Self-training adds this many pseudo-labelled documents per labelled one (balanced per class).</summary>
    public const int PseudoLabelRatio = 2;

    /// <summary>Self-training chooses its pseudo-labels among this many times as many candidates, at most
    /// <see cref="MaximumCandidates"/>: labelling them is one pass of inference.</summary>
    public const int CandidatesPerPseudoLabel = 10;

    public const int MaximumCandidates = 5_000;

    /// <summary>Below this many labelled documents, the classifier trains on all of them for a fixed schedule: a 10 %
    /// split holds under 200 documents, whose accuracy moves by several points from epoch to epoch by chance alone
    /// (IMDb, 100 labels: the 10-review split read 50 % for every epoch while the training loss fell to 0.01).</summary>
    public const int FixedScheduleBelow = 2_000;

    /// <summary>Below this many labelled documents every layer group trains from the first step ("all"); from it,
    /// gradual unfreezing (the paper). Measured: "all" beat gradual on IMDb with 1,000 labels (19.8 against 22.4 %),
    /// gradual beat "all" on the full TREC-6, SST-2, MR and IMDb sets (5,452–22,500 documents).</summary>
    public const int UnfreezeAllBelow = 2_500;

    /// <summary>The classifier's schedule is lengthened to at least this many optimizer steps: with 90 documents,
    /// gradual unfreezing's ten epochs are 30 steps, too few for the one-cycle schedules to do their work.</summary>
    public const int MinimumSteps = 150;

    /// <summary>No more epochs than this, however small the data.</summary>
    public const int MaximumEpochs = 40;

    /// <summary>The batch is about an eighth of the training documents (rounded to a power of two, 8 to 64), so a tiny
    /// set still gets several optimizer steps an epoch; 64 (fastai's) from 768 documents on.</summary>
    public static int BatchSizeFor(int trainingDocuments)
    {
        double target = Math.Max(1, trainingDocuments / 8.0);
        int power = (int)Math.Pow(2, Math.Round(Math.Log2(target)));
        return Math.Clamp(power, 8, 64);
    }

    /// <summary>The recipe for <paramref name="profile"/>, keeping whatever <paramref name="given"/> sets.</summary>
    public static FitRecipe Choose(DataProfile profile, FitOptions given)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(given);
        int n = profile.LabelledDocuments;
        var reasons = new List<string>();
        string labels = n.ToString("N0", CultureInfo.InvariantCulture) + " labelled documents";

        double validFraction;
        string selection;
        if (profile.HasValidationFile)
        {
            validFraction = 0;
            selection = "best epoch on the validation file";
        }
        else if (given.ValidFraction is double f)
        {
            validFraction = f;
            selection = f > 0 ? $"best epoch on a {f:P0} held-out split (set by the caller)" : "fixed schedule, no validation (set by the caller)";
        }
        else if (n < FixedScheduleBelow)
        {
            validFraction = 0;
            selection = $"fixed schedule on all {labels}, no validation split (below {FixedScheduleBelow:N0} a 10 % split is too small to choose epochs)";
        }
        else
        {
            validFraction = 0.1;
            selection = "best epoch on a 10 % held-out split";
        }
        reasons.Add("selection: " + selection);

        int trainingDocuments = Math.Max(1, (int)Math.Round(n * (1 - validFraction)));
        int batch = given.BatchSize ?? BatchSizeFor(trainingDocuments);
        reasons.Add(given.BatchSize != null
            ? $"batch size {batch} (set by the caller)"
            : $"batch size {batch}: about an eighth of {trainingDocuments:N0} training documents, 8 to 64");

        // A final stage's rate is gradual unfreezing's own setting, so giving one asks for gradual unfreezing.
        bool unfreezingGiven = given.Unfreezing != null || given.FinalLearningRate != null;
        UnfreezingMode unfreezing = given.Unfreezing ?? (given.FinalLearningRate != null || n >= UnfreezeAllBelow ? UnfreezingMode.Gradual : UnfreezingMode.All);
        // Without a language model every group trains together (from scratch, --epochs counts every epoch).
        bool fromScratch = given.LanguageModel == null && given.BackwardLanguageModel == null;
        reasons.Add(fromScratch
            ? "from scratch: every layer group trains from the start"
            : unfreezingGiven
            ? $"unfreezing {Name(unfreezing)} (set by the caller)"
            : unfreezing == UnfreezingMode.All
                ? $"unfreezing all: every layer group trains from the start below {UnfreezeAllBelow:N0} labelled documents"
                : "unfreezing gradual (the paper's), one more layer group per epoch");

        long stepsPerEpoch = (trainingDocuments + batch - 1) / batch;
        int finalEpochs;
        if (given.Epochs is int e)
        {
            // From scratch --epochs is every epoch; the pretrained stages count 3 + --epochs.
            finalEpochs = fromScratch ? e - 3 : e;
            reasons.Add($"{finalEpochs + 3} classifier epochs (set by the caller)");
        }
        else
        {
            int totalEpochs = (int)Math.Clamp((MinimumSteps + stepsPerEpoch - 1) / stepsPerEpoch, FitOptions.DefaultTotalEpochs, MaximumEpochs);
            finalEpochs = totalEpochs - 3;
            reasons.Add(totalEpochs == FitOptions.DefaultTotalEpochs
                ? $"{totalEpochs} classifier epochs (fastai's), {stepsPerEpoch * totalEpochs:N0} steps"
                : $"{totalEpochs} classifier epochs: {stepsPerEpoch} steps an epoch, at least {MinimumSteps} steps in all");
        }
        int lmEpochs = given.LanguageModelEpochs ?? FitOptions.DefaultLanguageModelEpochs;

        // Self-training where labels are few and unlabelled text is at hand (single-label data).
        int perClass = 0, candidates = 0;
        bool selfTrain = given.SelfTraining ?? (n < FixedScheduleBelow);
        if (selfTrain && given.Unlabeled.Count > 0 && !given.MultiLabel && profile.Classes > 0)
        {
            perClass = (PseudoLabelRatio * n + profile.Classes - 1) / profile.Classes;
            candidates = Math.Min(MaximumCandidates, CandidatesPerPseudoLabel * perClass * profile.Classes);
            reasons.Add(given.SelfTraining == true
                ? $"self-training: up to {perClass:N0} pseudo-labels per class from {candidates:N0} unlabelled documents (asked for by the caller)"
                : $"self-training: up to {perClass:N0} pseudo-labels per class from {candidates:N0} unlabelled documents (below {FixedScheduleBelow:N0} labelled documents, with unlabelled text)");
        }
        long? tokenCap = given.LanguageModelMaxTokensPerEpoch;
        if (tokenCap == null && given.Unlabeled.Count > 0 && lmEpochs > 0)
        {
            tokenCap = UnlabelledTokenCap;
            reasons.Add($"LM fine-tuning reads at most {UnlabelledTokenCap:N0} tokens an epoch (unlabelled text given; --lm-max-tokens sets another cap)");
        }
        return new FitRecipe(batch, unfreezing, finalEpochs, validFraction, selection, lmEpochs, stepsPerEpoch * (finalEpochs + 3), profile, reasons,
            perClass, candidates, tokenCap);
    }

    /// <summary>The name <c>--unfreeze</c> takes.</summary>
    public static string Name(UnfreezingMode mode) => mode switch
    {
        UnfreezingMode.All => "all",
        UnfreezingMode.LastLayer => "last",
        _ => "gradual",
    };

    /// <summary>One line for the summary: the data, then the choices.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"recipe for {Profile.LabelledDocuments:N0} labelled documents, {Profile.Classes} classes (smallest {Profile.SmallestClass:N0}), median {Profile.MedianWords:N0} words: ")
        + string.Join("; ", Reasons);
}
