using Ulmfit.Data;

namespace Ulmfit.Tests.Data;

/// <summary>Output files are replaced whole, through a uniquely named temporary file, and never turn a link or a
/// special file into a regular file.</summary>
public class AtomicFileTests
{
    [Fact]
    public void A_file_named_like_the_old_temporary_file_is_left_alone()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("summary.json", "old");
        string neighbour = dir.Write("summary.json.tmp", "the user's own file");

        AtomicFile.WriteText(path, "new");

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal("the user's own file", File.ReadAllText(neighbour));
        Assert.Equal(["summary.json", "summary.json.tmp"], Directory.GetFiles(dir.Root).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void A_symbolic_link_keeps_pointing_at_its_file_which_gets_the_new_content()
    {
        using var dir = new TempDirectory();
        string target = dir.Write("real/predictions.csv", "old");
        string link = dir.PathOf("predictions.csv");
        File.CreateSymbolicLink(link, target);

        AtomicFile.WriteText(link, "new");

        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Equal("new", File.ReadAllText(target));
    }

    [SkippableFact]
    public async Task A_fifo_is_written_in_place_and_stays_a_fifo()
    {
        using var dir = new TempDirectory();
        string fifo = dir.PathOf("pipe");
        Skip.IfNot(ExternalProgram.Succeeds("mkfifo", fifo), "mkfifo is not available here");
        Assert.Equal(FileKind.Special, FileKinds.Of(fifo));
        var reader = Task.Run(() => File.ReadAllText(fifo)); // a FIFO's writer blocks until someone reads

        AtomicFile.WriteText(fifo, "through the pipe");

        Assert.Equal("through the pipe", await reader.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(FileKind.Special, FileKinds.Of(fifo));
        Assert.Equal(["pipe"], Directory.GetFileSystemEntries(dir.Root).Select(Path.GetFileName));
    }

    [Fact]
    public void A_folder_is_refused_and_kinds_are_told_apart()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<IOException>(() => AtomicFile.WriteText(dir.Root, "x"));
        Assert.Contains("is a folder", e.Message);
        Assert.Equal(FileKind.Directory, FileKinds.Of(dir.Root));
        Assert.Equal(FileKind.Missing, FileKinds.Of(dir.PathOf("absent")));
        Assert.Equal(FileKind.Regular, FileKinds.Of(dir.Write("a.txt", "a")));
        if (File.Exists("/dev/null")) Assert.Equal(FileKind.Special, FileKinds.Of("/dev/null"));
    }

    [Fact]
    public void A_failed_write_leaves_the_old_file_and_no_temporary_file()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("out.csv", "old");

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("half"u8);
            throw new InvalidOperationException("the writer failed");
        }));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["out.csv"], Directory.GetFiles(dir.Root).Select(Path.GetFileName));
    }
}
