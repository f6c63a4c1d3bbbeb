using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Tests.Data;

namespace Ulmfit.Tests.Classification;

public class ClassificationDatasetTests
{
    static readonly InMemoryTokenDocuments ThreeDocuments = new([[5], [6, 7], [8]]);

    [Fact]
    public void Labels_from_a_labelled_csv_reach_the_dataset_through_the_token_store()
    {
        using var dir = new TempDirectory();
        string csv = dir.Write("train.csv", "label,text\nspam,buy now\nham,see you\nspam,cheap pills\neggs,break fast\n");
        var documents = DocumentReader.Read(csv, new DocumentReaderOptions { LabelRequired = true }).ToList();
        var labels = LabelSetCheck.Check(documents, csv);
        var tokenizer = new WhitespaceTestTokenizer();
        var vocabulary = Vocabulary.Build(TokenCounter.Count(documents, tokenizer, 1), new VocabularySettings(MinFrequency: 1));
        new TokenStoreBuilder(tokenizer).Build(documents, vocabulary, dir.PathOf("train.ulmtok"));
        using var store = TokenStore.Open(dir.PathOf("train.ulmtok"));

        var dataset = ClassificationDataset.FromTokenStore(store, labels.Classes);

        Assert.Equal(["eggs", "ham", "spam"], dataset.Classes);
        Assert.Equal([2, 1, 2, 0], Enumerable.Range(0, 4).Select(dataset.Label));
        Assert.Equal(3, dataset.Documents.Length(0)); // xxbos buy now
        Assert.Equal([1, 1, 2], dataset.ClassCounts());
    }

    [Fact]
    public void Multi_label_strings_split_on_the_separator_into_sorted_class_sets()
    {
        var dataset = ClassificationDataset.FromLabelStrings(ThreeDocuments, ["grain|corn", "corn", " wheat | grain |grain"],
            ["corn", "grain", "wheat"], multiLabel: true);

        Assert.True(dataset.MultiLabel);
        Assert.Equal([0, 1], dataset.Labels(0));
        Assert.Equal([0], dataset.Labels(1));
        Assert.Equal([1, 2], dataset.Labels(2));
        Assert.Throws<InvalidOperationException>(() => dataset.Label(0));
    }

    [Fact]
    public void A_label_the_classifier_does_not_know_is_named_with_its_document_number()
    {
        var error = Assert.Throws<InvalidInputException>(() =>
            ClassificationDataset.FromLabelStrings(ThreeDocuments, ["a", "b", "zebra"], ["a", "b"], source: "test.csv"));

        Assert.StartsWith("test.csv: document 3 has label 'zebra'", error.Message);
        Assert.Throws<InvalidInputException>(() => ClassificationDataset.FromLabelStrings(ThreeDocuments, ["a", null, "b"], ["a", "b"]));
    }

    [Fact]
    public void A_subset_keeps_the_chosen_documents_and_their_labels_in_the_given_order()
    {
        var dataset = ClassificationDataset.SingleLabel(ThreeDocuments, [0, 1, 0], ["x", "y"]);

        var subset = dataset.Subset([2, 1]);

        Assert.Equal(2, subset.Count);
        Assert.Equal([0, 1], new[] { subset.Label(0), subset.Label(1) });
        Assert.Equal(2, subset.Documents.Length(1));
        Assert.Equal(3, subset.Documents.TokenCount);
        Assert.Throws<ArgumentException>(() => ClassificationDataset.SingleLabel(ThreeDocuments, [0, 2, 0], ["x", "y"]));
        Assert.Throws<ArgumentException>(() => ClassificationDataset.SingleLabel(ThreeDocuments, [0, 1], ["x", "y"]));
    }
}
