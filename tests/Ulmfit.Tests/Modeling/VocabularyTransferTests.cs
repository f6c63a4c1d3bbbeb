using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

public class VocabularyTransferTests
{
    public VocabularyTransferTests() => TorchRuntime.Initialise(2);

    static AwdLstmConfig Config(int vocab, int hidden = 12) =>
        new(vocab) { EmbeddingSize = 3, HiddenSize = hidden, Layers = 2, PadId = 1 };

    [Fact]
    public void Known_tokens_keep_their_rows_and_new_tokens_get_the_means()
    {
        string[] oldItos = ["xxunk", "xxpad", "the", "cat"];
        string[] newItos = ["xxunk", "xxpad", "dog", "the", "cat", "sat"];
        using var oldModel = new AwdLstmLanguageModel(Config(oldItos.Length));
        using var newModel = new AwdLstmLanguageModel(Config(newItos.Length));
        using (no_grad())
        {
            oldModel.Encoder.Embedding.Weight.copy_(tensor(new float[] { 0, 0, 0, 1, 1, 1, 2, 4, 6, 5, 3, 1 }).reshape(4, 3));
            oldModel.Decoder.Bias.copy_(tensor(new float[] { -1, 0, 2, 7 }));
        }

        var report = VocabularyTransfer.Apply(oldItos, newItos, oldModel, newModel);

        Assert.Equal(new VocabularyTransferReport(KeptTokens: 4, NewTokens: 2), report);
        // Mean row = (0+1+2+5, 0+1+4+3, 0+1+6+1) / 4 = (2, 2, 2); mean bias = 8 / 4 = 2.
        float[] expectedRows = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 4, 6, 5, 3, 1, 2, 2, 2];
        Assert.Equal(expectedRows, newModel.Encoder.Embedding.Weight.data<float>().ToArray());
        Assert.Equal(new float[] { -1, 0, 2, 2, 7, 2 }, newModel.Decoder.Bias.data<float>().ToArray());
        Assert.Same(newModel.Encoder.Embedding.Weight, newModel.Decoder.Weight);
        for (int l = 0; l < 2; l++)
            for (int k = 0; k < 4; k++)
                Assert.Equal(0f, LstmReference.MaxAbsDifference(((AwdLstmEncoder)oldModel.Encoder).Layers[l].Weights[k], ((AwdLstmEncoder)newModel.Encoder).Layers[l].Weights[k]));
    }

    [Fact]
    public void A_token_repeated_in_the_old_vocabulary_takes_its_first_row()
    {
        using var oldRows = tensor(new float[] { 1, 2, 3 }).reshape(3, 1);
        using var oldBias = tensor(new float[] { 10, 20, 30 });
        var (rows, bias, report) = VocabularyTransfer.MatchRows(["a", "xxfake", "xxfake"], ["xxfake", "b"], oldRows, oldBias);
        using (rows)
        using (bias)
        {
            Assert.Equal(new float[] { 2, 2 }, rows.data<float>().ToArray());   // xxfake → row 1; b → mean 2
            Assert.Equal(new float[] { 20, 20 }, bias!.data<float>().ToArray());
            Assert.Equal(new VocabularyTransferReport(1, 1), report);
        }
    }

    [Fact]
    public void Weights_of_a_different_architecture_are_rejected_naming_the_tensor()
    {
        string[] itos = ["xxunk", "xxpad", "a"];
        using var oldModel = new AwdLstmLanguageModel(Config(3, hidden: 12));
        using var newModel = new AwdLstmLanguageModel(Config(3, hidden: 10));
        var e = Assert.Throws<InvalidDataException>(() => VocabularyTransfer.Apply(itos, itos, oldModel, newModel));
        Assert.Contains("'encoder.rnns.0.weight_ih_l0'", e.Message);
    }

    [Fact]
    public void Vocabulary_sizes_must_match_the_models()
    {
        using var oldModel = new AwdLstmLanguageModel(Config(3));
        using var newModel = new AwdLstmLanguageModel(Config(3));
        Assert.Throws<ArgumentException>(() => VocabularyTransfer.Apply(["a", "b"], ["a", "b", "c"], oldModel, newModel));
        Assert.Throws<ArgumentException>(() => VocabularyTransfer.Apply(["a", "b", "c"], ["a", "b"], oldModel, newModel));
    }
}
