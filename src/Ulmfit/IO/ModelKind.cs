namespace Ulmfit.IO;

/// <summary>What a model package holds. All three use the same format; the kind says which weights to expect.</summary>
public enum ModelKind
{
    /// <summary>An AWD-LSTM with its tied decoder: predicts the next token (<c>"language-model"</c>).</summary>
    LanguageModel,
    /// <summary>The AWD-LSTM encoder alone, handed from LM fine-tuning to the classifier (<c>"encoder"</c>).</summary>
    Encoder,
    /// <summary>Encoder plus classification head, with its label set (<c>"classifier"</c>).</summary>
    Classifier,
}
