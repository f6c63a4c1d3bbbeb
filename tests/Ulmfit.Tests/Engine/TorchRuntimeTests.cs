using TorchSharp;
using Ulmfit.Engine;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Engine;

public class TorchRuntimeTests
{
    [Fact]
    public void Native_engine_loads_and_multiplies_matrices()
    {
        TorchRuntime.Initialise(2);
        using var a = tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        using var b = tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
        Assert.Equal(2, TorchRuntime.Threads);
    }

    [Fact]
    public void Autograd_computes_a_gradient()
    {
        using var x = tensor(new float[] { 1, 2, 3 }, requires_grad: true);
        using var y = (x * x).sum();
        y.backward();
        Assert.Equal(new float[] { 2, 4, 6 }, x.grad!.data<float>().ToArray());
    }

    const string MissingVersion = "GLIBCXX_3.4.32";

    [SkippableFact]
    public void Build_output_copy_of_the_native_glue_is_patched_and_the_package_cache_is_not()
    {
        string output = Path.GetDirectoryName(typeof(torch).Assembly.Location)!;
        string? copy = new[] { Path.Combine(output, "libLibTorchSharp.so"), Path.Combine(output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so") }
            .FirstOrDefault(File.Exists);
        Skip.If(copy == null, "no libLibTorchSharp.so in the build output (not a Linux build)");
        const string systemLibstdcxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
        Skip.IfNot(File.Exists(systemLibstdcxx), "no Debian-layout libstdc++ on this machine");
        Skip.If(File.ReadAllBytes(systemLibstdcxx).AsSpan().IndexOf("GLIBCXX_3.4.32\0"u8) >= 0,
            "the system libstdc++ provides GLIBCXX_3.4.32, so the build leaves the library alone");

        // MakeWeak counts the entries it had to change: none left in the output copy, one in the pristine package.
        Assert.Equal(0, ElfVersionPatcher.MakeWeak(File.ReadAllBytes(copy!), [MissingVersion]));

        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string cached = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Skip.IfNot(File.Exists(cached), $"package cache copy not found at {cached}");
        Assert.Equal(1, ElfVersionPatcher.MakeWeak(File.ReadAllBytes(cached), [MissingVersion]));
    }

    [Fact]
    public void Patcher_rejects_a_file_that_is_not_elf()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.MakeWeak(new byte[100], [MissingVersion]));
    }

    [Fact]
    public void Patcher_rejects_a_truncated_elf_without_crashing()
    {
        byte[] header = new byte[64];
        header[0] = 0x7f; header[1] = (byte)'E'; header[2] = (byte)'L'; header[3] = (byte)'F'; header[4] = 2; header[5] = 1;
        header[0x28] = 0xff; header[0x3C] = 1; header[0x3A] = 64; // section table beyond the end of the file
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.MakeWeak(header, [MissingVersion]));
    }
}
