using TorchSharp;
using Ulmfit.Classification;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using Ulmfit.Training;
using static TorchSharp.torch;
using static Ulmfit.Tests.Classification.TinyClassifiers;

namespace Ulmfit.Tests.Classification;

/// <summary>
/// These run many small forward passes; alone and on one thread they take a second, in parallel with the rest of the
/// suite on a busy two-core machine half a minute.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SmallModelCollection
{
    public const string Name = "small classifier models";
}

[Collection(SmallModelCollection.Name)]
public class TextClassifierTests
{
    const float Tolerance = 1e-5f;

    // Tiny models are bound by per-operator overhead: one thread is fastest. (The count is process-wide, hence the
    // non-parallel collection.)
    public TextClassifierTests() => TorchRuntime.Initialise(1);

    /// <summary>Reference pooling written independently: one full pass, then per-document slices.</summary>
    static Tensor PoolFromOneFullPass(TextClassifier classifier, IReadOnlyList<int[]> documents)
    {
        using var batch = Batch(classifier.Config, documents);
        classifier.Encoder.ResetState();
        var output = classifier.Encoder.Forward(batch.Tokens, allLayers: false).LastRaw;   // (batch, seq, emb)
        classifier.Encoder.ResetState();
        var rows = new List<Tensor>();
        for (int b = 0; b < documents.Count; b++)
        {
            long length = documents[b].Length, first = Math.Max(0, length - classifier.Config.MaxLength);
            var window = output[b].narrow(0, first, length - first);                         // (window, emb)
            rows.Add(cat([output[b][length - 1], window.amax([0]), window.mean([0])], 0));
        }
        return stack(rows, 0);
    }

    [Fact]
    public void State_dict_holds_the_language_model_encoder_keys_the_head_and_the_thresholds()
    {
        using var classifier = new TextClassifier(Config());
        var keys = classifier.state_dict().Keys.ToHashSet();

        string[] encoder = ["encoder.embedding.weight", .. Enumerable.Range(0, 3).SelectMany(l => new[]
            { $"encoder.rnns.{l}.weight_ih_l0", $"encoder.rnns.{l}.weight_hh_l0_raw", $"encoder.rnns.{l}.bias_ih_l0", $"encoder.rnns.{l}.bias_hh_l0" })];
        string[] head = ["head.batch_norm0.weight", "head.batch_norm0.bias", "head.batch_norm0.running_mean", "head.batch_norm0.running_var",
            "head.linear0.weight", "head.batch_norm1.weight", "head.linear1.weight"];
        Assert.All(encoder.Concat(head).Append("decision_thresholds"), k => Assert.Contains(k, keys));
        Assert.DoesNotContain(keys, k => k.StartsWith("head.linear", StringComparison.Ordinal) && k.EndsWith(".bias", StringComparison.Ordinal));

        using var lm = new AwdLstmLanguageModel(Config().Encoder);
        var lmEncoderKeys = lm.state_dict().Keys.Where(k => k.StartsWith("encoder.", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(lmEncoderKeys, keys.Where(k => k.StartsWith("encoder.", StringComparison.Ordinal)).ToHashSet());
    }

    [Fact]
    public void Layer_groups_are_embedding_each_lstm_and_the_head_covering_every_parameter_once()
    {
        using var classifier = new TextClassifier(Config());
        var groups = classifier.LayerGroups;

        Assert.Equal(["embedding", "lstm0", "lstm1", "lstm2", "head"], groups.Select(g => g.Name));
        Assert.Same(classifier.Encoder.Embedding.Weight, Assert.Single(groups[0].Parameters));
        Assert.Equal(4, groups[1].Parameters.Count);
        Assert.Equal(6, groups[4].Parameters.Count); // two batch norms (scale, shift) and two bias-free linear weights
        long grouped = groups.Sum(g => g.Parameters.Sum(p => p.numel()));
        Assert.Equal(classifier.parameters().Sum(p => p.numel()), grouped);
        Assert.Equal(groups.Sum(g => g.Parameters.Count), groups.SelectMany(g => g.Parameters).Select(p => p.Handle).Distinct().Count());
    }

    [Fact]
    public void Logits_have_one_column_per_class_and_probabilities_sum_to_one()
    {
        using var scope = NewDisposeScope();
        using var classifier = new TextClassifier(Config());
        classifier.eval();
        using var batch = Batch(classifier.Config, Documents([5, 9, 2], seed: 1));

        var logits = classifier.Forward(batch);
        var probabilities = classifier.Probabilities(logits);

        Assert.Equal([3L, 3], logits.shape);
        Assert.True(MaxAbsDifference(probabilities.sum([1]), ones(3)) < Tolerance);
    }

    [Fact]
    public void Bpt3c_pools_the_same_features_as_one_full_length_pass_for_documents_shorter_than_max_length()
    {
        using var scope = NewDisposeScope();
        using var classifier = new TextClassifier(Config(bptt: 4, maxLength: 100));
        classifier.eval();
        var documents = Documents([23, 17, 9, 4, 1], seed: 2); // 6 chunks of 4 for the longest

        using var batch = Batch(classifier.Config, documents);
        var chunked = classifier.Encode(batch.Tokens, batch.Lengths);
        var reference = PoolFromOneFullPass(classifier, documents);

        Assert.Equal([5L, 24], chunked.shape);
        Assert.True(MaxAbsDifference(chunked, reference) < Tolerance);
    }

    [Fact]
    public void Documents_longer_than_max_length_pool_only_their_last_max_length_tokens()
    {
        using var scope = NewDisposeScope();
        using var classifier = new TextClassifier(Config(bptt: 4, maxLength: 6));
        classifier.eval();
        var documents = Documents([21, 13, 6, 3], seed: 3);

        using var batch = Batch(classifier.Config, documents);
        var chunked = classifier.Encode(batch.Tokens, batch.Lengths);
        var reference = PoolFromOneFullPass(classifier, documents); // slices the last 6 outputs of each document

        Assert.True(MaxAbsDifference(chunked, reference) < Tolerance);
        // Control: pooling the whole long document would give other max/mean features.
        using var whole = new TextClassifier(Config(bptt: 4, maxLength: 100));
        whole.load_state_dict(classifier.state_dict());
        whole.eval();
        Assert.True(MaxAbsDifference(whole.Encode(batch.Tokens, batch.Lengths).narrow(0, 0, 1), chunked.narrow(0, 0, 1)) > 1e-4f);
    }

    [Fact]
    public void Chunks_before_the_pooled_window_run_without_gradient()
    {
        using var scope = NewDisposeScope();
        using var classifier = new TextClassifier(Config(AwdLstmDropouts.None, bptt: 4, maxLength: 8));
        classifier.eval(); // batch norm in training mode would make the summed logits constant over the batch
        // 16 tokens: positions 0..7 (two chunks) only set up the state; 8..15 are pooled.
        int[] early = [.. Enumerable.Range(10, 8)], late = [.. Enumerable.Range(30, 8)];
        using var batch = Batch(classifier.Config, [[.. early, .. late], [.. early, .. late]]);

        classifier.Forward(batch).sum().backward();

        var grad = classifier.Encoder.Embedding.Weight.grad!;
        Assert.Equal(0f, grad.narrow(0, 10, 8).abs().sum().item<float>());
        Assert.True(grad.narrow(0, 30, 8).abs().sum().item<float>() > 0);
        Assert.Null(classifier.Encoder.StateBatchSize); // no state outlives the batch
        // Only the two pooled chunks recorded a graph, each on its own native workspace.
        Assert.All(((AwdLstmEncoder)classifier.Encoder).Layers, layer => Assert.Equal(2, layer.WorkspaceCount));
    }

    [Fact]
    public void A_long_document_batched_with_a_short_one_keeps_a_graph_over_the_pooled_windows_only()
    {
        using var scope = NewDisposeScope();
        using var classifier = new TextClassifier(Config(AwdLstmDropouts.None, bptt: 4, maxLength: 8));
        classifier.eval();
        // 40 tokens: 0..31 only set up its state, 32..39 are pooled; the 4-token row pools from position 0. One pass
        // would record all ten chunks of the padded width (the audit's 100 KB document: gigabytes).
        int[] early = [.. Enumerable.Range(2, 16), .. Enumerable.Range(2, 16)], late = [.. Enumerable.Range(18, 8)], shortRow = [26, 27, 28, 29];
        using var batch = Batch(classifier.Config, [[.. early, .. late], shortRow]);

        classifier.Forward(batch).sum().backward();

        var grad = classifier.Encoder.Embedding.Weight.grad!;
        Assert.Equal(0f, grad.narrow(0, 2, 16).abs().sum().item<float>());
        Assert.True(grad.narrow(0, 18, 8).abs().sum().item<float>() > 0);
        Assert.True(grad.narrow(0, 26, 4).abs().sum().item<float>() > 0);
        // The short row's one chunk and the long row's two pooled chunks.
        Assert.All(((AwdLstmEncoder)classifier.Encoder).Layers, layer => Assert.Equal(3, layer.WorkspaceCount));
    }

    [Fact]
    public void Pooled_features_are_what_the_head_reads_in_input_order()
    {
        using var scope = NewDisposeScope();
        using var classifier = new TextClassifier(Config(bptt: 4, maxLength: 10));
        var documents = Documents([3, 17, 9, 30, 1], seed: 5);

        var features = ClassifierEvaluator.PooledFeatures(classifier, new Ulmfit.Data.InMemoryTokenDocuments(documents)); // batched longest first

        Assert.True(classifier.training); // the training flag is restored
        classifier.eval();
        for (int d = 0; d < documents.Length; d++)
        {
            using var alone = Batch(classifier.Config, [documents[d]]);
            var expected = classifier.Encode(alone.Tokens, alone.Lengths)[0].data<float>().ToArray();   // (3·emb)
            Assert.Equal(expected.Length, features[d].Length);
            Assert.All(expected.Zip(features[d]), p => Assert.Equal(p.First, p.Second, 1e-5f));
        }
    }

    [Theory]
    [InlineData(new long[] { 14, 12, 10, 3 }, 1)]          // first pooled chunks 4, 4, 0, 0: one pass
    [InlineData(new long[] { 40, 4 }, 2)]                   // first pooled chunks 32 and 0: 32 > 8 apart
    [InlineData(new long[] { 4, 100, 12, 60, 40 }, 4)]
    public void Rows_share_a_pass_only_when_their_pooled_windows_start_within_max_length(long[] lengths, int passes)
    {
        var groups = TextClassifier.PoolingGroups(lengths, maxLength: 8, bptt: 4);

        Assert.Equal(passes, groups.Count);
        Assert.Equal(Enumerable.Range(0, lengths.Length), groups.SelectMany(g => g).Order());
        foreach (var rows in groups)
        {
            var firsts = rows.Select(r => Math.Max(0, lengths[r] - 8) / 4 * 4).ToArray();
            Assert.InRange(firsts.Max() - firsts.Min(), 0, 8);
        }
    }

    [Fact]
    public void Padding_never_leaks_into_pooling_a_document_pools_the_same_in_any_batch_as_alone()
    {
        using var classifier = new TextClassifier(Config(bptt: 4, maxLength: 10));
        classifier.eval();
        using var _ = no_grad();
        var random = new Xoshiro256StarStar(99);
        for (int trial = 0; trial < 25; trial++)
        {
            using var scope = NewDisposeScope();
            int rows = 1 + random.NextInt(6);
            var lengths = Enumerable.Range(0, rows).Select(_ => 1 + random.NextInt(26)).ToArray();
            var documents = Documents(lengths, seed: (ulong)trial + 1000);
            using var batch = Batch(classifier.Config, documents);
            var together = classifier.Encode(batch.Tokens, batch.Lengths);       // (rows, 24)
            for (int b = 0; b < rows; b++)
            {
                using var alone = Batch(classifier.Config, [documents[b]]);
                var single = classifier.Encode(alone.Tokens, alone.Lengths);     // (1, 24)
                Assert.True(MaxAbsDifference(together.narrow(0, b, 1), single) < Tolerance,
                    $"trial {trial}: document {b} of lengths [{string.Join(", ", lengths)}]");
            }
        }
    }

    [Fact]
    public void Encoder_weights_load_from_a_language_model_by_key_and_leave_the_head_alone()
    {
        var config = Config();
        using var lm = new AwdLstmLanguageModel(config.Encoder);
        using var classifier = new TextClassifier(config);
        using var headBefore = classifier.Head.state_dict()["linear0.weight"].clone();

        classifier.LoadEncoderWeights(lm);

        var lmState = lm.state_dict();
        foreach (var (key, value) in classifier.Encoder.Module.state_dict())
            Assert.True(value.allclose(lmState["encoder." + key], rtol: 0, atol: 0), key);
        Assert.True(classifier.Head.state_dict()["linear0.weight"].allclose(headBefore, rtol: 0, atol: 0));
    }

    [Fact]
    public void Encoder_weights_of_another_vocabulary_are_refused_naming_the_key()
    {
        using var lm = new AwdLstmLanguageModel(Config(vocab: 48).Encoder);
        using var classifier = new TextClassifier(Config());

        var error = Assert.Throws<ArgumentException>(() => classifier.LoadEncoderWeights(lm));
        Assert.Contains("encoder.embedding.weight", error.Message);
        var missing = Assert.Throws<ArgumentException>(() => classifier.LoadEncoderWeights(new Dictionary<string, Tensor>()));
        Assert.Contains("lack", missing.Message);
    }

    [Fact]
    public void Decision_thresholds_travel_with_the_state_dict()
    {
        using var trained = new TextClassifier(Config(multiLabel: true));
        trained.DecisionThresholds = [0.2f, 0.7f, 0.45f];
        using var loaded = new TextClassifier(Config(multiLabel: true));

        loaded.load_state_dict(trained.state_dict());

        Assert.Equal([0.2f, 0.7f, 0.45f], loaded.DecisionThresholds);
        Assert.Throws<ArgumentException>(() => loaded.DecisionThresholds = [0.5f]);
    }

    [Fact]
    public void A_backward_classifier_reads_each_document_reversed_with_padding_still_at_the_end()
    {
        using var batch = Batch(Config(backwards: true), [[5, 6, 7], [8, 9]]);

        Assert.Equal(new long[] { 7, 6, 5, 9, 8, 1 }, batch.Tokens.data<long>().ToArray());
        Assert.Equal([3L, 2], batch.Lengths);
    }
}
