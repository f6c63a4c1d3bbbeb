using Ulmfit.Modeling;

namespace Ulmfit.Benchmarking;

/// <summary>
/// Model FLOPs, the numerator of model FLOPs utilisation (MFU): the multiply-adds a model's matrix products need per
/// token or document, counted from its shapes (2 FLOPs per multiply-add), independent of how an implementation
/// schedules them. Training counts three times the forward (the backward pass costs about twice the forward).
/// Element-wise work, embedding lookups and biases are left out, as is usual for MFU: they are small beside the
/// products and memory-bound.
/// </summary>
public static class ModelFlops
{
    /// <summary>Forward-pass FLOPs of the recurrent encoder per token. An LSTM layer's four gates take
    /// 4·out·(in + out) multiply-adds (input and hidden products); a QRNN layer's three gates read a window of two
    /// inputs, 3·out·2·in (its recurrence is element-wise).</summary>
    public static double EncoderForwardPerToken(AwdLstmConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        double macs = 0;
        for (int l = 0; l < config.Layers; l++)
        {
            double input = config.LayerInputSize(l), output = config.LayerOutputSize(l);
            macs += config.Architecture == EncoderArchitecture.Qrnn ? 3 * output * 2 * input : 4 * output * (input + output);
        }
        return 2 * macs;
    }

    /// <summary>Training FLOPs per token of the language model: encoder plus the tied decoder (emb·vocab).</summary>
    public static double LanguageModelTrainingPerToken(AwdLstmConfig config) =>
        3 * (EncoderForwardPerToken(config) + 2.0 * config.EmbeddingSize * config.VocabSize);

    /// <summary>FLOPs per document of <paramref name="tokens"/> tokens through the classifier: the encoder over every
    /// token plus the head (concat pooling 3·emb → 50 → classes); three times that when training.</summary>
    public static double ClassifierPerDocument(AwdLstmConfig config, int tokens, int classes, bool training, int headHidden = 50)
    {
        double head = 2.0 * (3.0 * config.EmbeddingSize * headHidden + headHidden * classes);
        double forward = tokens * EncoderForwardPerToken(config) + head;
        return training ? 3 * forward : forward;
    }
}
