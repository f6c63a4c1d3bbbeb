using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

public class DropoutModuleTests
{
    public DropoutModuleTests() => TorchRuntime.Initialise(2);

    [Fact]
    public void Locked_dropout_uses_one_mask_across_time()
    {
        using var scope = NewDisposeScope();
        using var dropout = new LockedDropout(0.5);
        dropout.train();
        var input = ones(4, 7, 50);
        var output = dropout.forward(input);                     // (batch, seq, features)
        var firstStep = output.select(1, 0).unsqueeze(1);        // (batch, 1, features)
        Assert.Equal(0f, LstmReference.MaxAbsDifference(output, firstStep.expand(4, 7, 50)));
        // Survivors are scaled by 1/(1-p) = 2; both outcomes occur.
        Assert.True(output.eq(0).logical_or(output.eq(2)).all().item<bool>());
        Assert.True(output.eq(0).any().item<bool>());
        Assert.True(output.eq(2).any().item<bool>());
    }

    [Fact]
    public void Locked_dropout_draws_a_separate_mask_for_each_sequence_of_the_batch()
    {
        using var scope = NewDisposeScope();
        using var dropout = new LockedDropout(0.5);
        dropout.train();
        var output = dropout.forward(ones(8, 3, 64));
        Assert.True(LstmReference.MaxAbsDifference(output.select(0, 0), output.select(0, 1)) > 0);
    }

    [Fact]
    public void Locked_dropout_is_the_identity_in_eval_mode()
    {
        using var scope = NewDisposeScope();
        using var dropout = new LockedDropout(0.5);
        dropout.eval();
        var input = randn(2, 3, 4);
        Assert.Equal(0f, LstmReference.MaxAbsDifference(dropout.forward(input), input));
    }

    [Fact]
    public void Embedding_dropout_zeroes_whole_words_and_scales_the_others()
    {
        using var scope = NewDisposeScope();
        const int vocab = 40;
        using var dropout = new EmbeddingDropout(vocab, 0.5);
        dropout.train();
        // Every word occurs at several positions, in different sequences.
        var tokens = arange(vocab * 6, dtype: ScalarType.Int64).remainder(vocab).reshape(6, vocab);   // (batch, seq)
        var embedded = randn(6, vocab, 5) + 3;                                                          // no zeros
        var output = dropout.forward(tokens, embedded);
        int droppedWords = 0, keptWords = 0;
        for (long word = 0; word < vocab; word++)
        {
            var at = tokens.eq(word);                                  // (batch, seq)
            var got = output[at];                                      // (occurrences, emb)
            var scaled = embedded[at] * 2;
            bool allZero = got.eq(0).all().item<bool>();
            bool allScaled = LstmReference.MaxAbsDifference(got, scaled) < 1e-6f;
            Assert.True(allZero ^ allScaled, $"word {word} must be dropped everywhere or kept (scaled) everywhere");
            if (allZero) droppedWords++; else keptWords++;
        }
        Assert.True(droppedWords > 0 && keptWords > 0);
    }

    [Fact]
    public void Embedding_dropout_is_the_identity_in_eval_mode()
    {
        using var scope = NewDisposeScope();
        using var dropout = new EmbeddingDropout(10, 0.5);
        dropout.eval();
        var tokens = randint(0, 10, [2, 3], dtype: ScalarType.Int64);
        var embedded = randn(2, 3, 4);
        Assert.Equal(0f, LstmReference.MaxAbsDifference(dropout.forward(tokens, embedded), embedded));
    }

    [Fact]
    public void Padding_lookups_return_the_padding_row_but_do_not_train_it()
    {
        using var scope = NewDisposeScope();
        using var embedding = new TokenEmbedding(6, 3, paddingId: 1);
        var tokens = tensor(new long[] { 1, 2, 1, 4, 2, 1 }).reshape(2, 3);
        var looked = embedding.forward(tokens);                    // (2, 3, 3)
        Assert.Equal(0f, LstmReference.MaxAbsDifference(looked[0, 0], embedding.Weight[1]));
        Assert.Equal(0f, LstmReference.MaxAbsDifference(looked[1, 0], embedding.Weight[4]));
        (looked * randn(2, 3, 3)).sum().backward();
        var grad = embedding.Weight.grad!;
        Assert.Equal(0f, grad[1].abs().sum().item<float>());
        Assert.True(grad[2].abs().sum().item<float>() > 0);
        Assert.True(grad[4].abs().sum().item<float>() > 0);
        Assert.Equal(0f, grad[0].abs().sum().item<float>()); // never looked up
    }

    [Fact]
    public void Dropout_probabilities_outside_zero_to_one_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LockedDropout(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmbeddingDropout(10, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightDropLstm(2, 3, double.NaN));
    }
}
