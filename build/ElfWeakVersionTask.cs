#nullable enable
// An MSBuild task (compiled by RoslynCodeTaskFactory from this file) that lets TorchSharp's native glue library
// load on a system whose libstdc++ is older than the one it was linked against.
//
// Why: libLibTorchSharp.so (TorchSharp 0.107) declares a need for GLIBCXX_3.4.32, which Debian 12's libstdc++
// (3.4.30) lacks. The only symbol bound to that version is _ZSt21ios_base_library_initv, which GCC 13 headers emit
// as a bare reference that no relocation uses, so nothing at run time needs it. The dynamic loader refuses a
// missing version only when the requirement is strong; setting VER_FLG_WEAK on that one Vernaux entry of
// .gnu.version_r turns the hard failure into nothing. We patch the copy in the build output only, writing a new
// file and renaming it over the old one so that a hard link into the NuGet cache is never written through.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
#if !ULMFIT_PATCHER_ONLY // the tests compile only the patcher below
using Microsoft.Build.Framework;

public sealed class ElfWeakVersionTask : Microsoft.Build.Utilities.Task
{
    /// <summary>Shared libraries in the build output to inspect.</summary>
    [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Version names (e.g. GLIBCXX_3.4.32) that may be made weak when the system lacks them.</summary>
    [Required] public string[] Versions { get; set; } = Array.Empty<string>();

    /// <summary>The system libraries that would provide the versions (e.g. libstdc++.so.6 candidates).</summary>
    [Required] public string[] SystemLibraryCandidates { get; set; } = Array.Empty<string>();

    public override bool Execute()
    {
        string? systemLibrary = null;
        foreach (string candidate in SystemLibraryCandidates)
            if (File.Exists(candidate)) { systemLibrary = candidate; break; }
        if (systemLibrary == null)
        {
            Log.LogMessage(MessageImportance.Low, "ElfWeakVersion: no system library found; nothing to do.");
            return true;
        }

        byte[] system = File.ReadAllBytes(systemLibrary);
        var missing = new List<string>();
        foreach (string version in Versions)
            if (IndexOf(system, Encoding.ASCII.GetBytes(version + "\0")) < 0) missing.Add(version);
        if (missing.Count == 0)
        {
            Log.LogMessage(MessageImportance.Low, $"ElfWeakVersion: {systemLibrary} provides every version; nothing to do.");
            return true;
        }

        foreach (ITaskItem item in Libraries)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            byte[] image = File.ReadAllBytes(path);
            int changed;
            try { changed = ElfVersionPatcher.MakeWeak(image, missing); }
            catch (InvalidDataException e) { Log.LogError($"ElfWeakVersion: {path}: {e.Message}"); return false; }
            if (changed == 0) continue;
            string temp = path + ".weakver.tmp";
            File.WriteAllBytes(temp, image);
            // Rename over the old file (never write through it: it may be a hard link into the NuGet cache).
            File.Replace(temp, path, null);
            Log.LogMessage(MessageImportance.High,
                $"ElfWeakVersion: marked {string.Join(", ", missing)} weak in {path} ({systemLibrary} lacks it).");
        }
        return true;
    }

    static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }
}

#endif

/// <summary>Edits the version-needs table (.gnu.version_r) of a little-endian ELF64 image in place.</summary>
public static class ElfVersionPatcher
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    /// <summary>Sets VER_FLG_WEAK on every Vernaux entry whose name is in <paramref name="versions"/>.
    /// Returns how many entries changed (0 when already weak or absent).</summary>
    public static int MakeWeak(byte[] image, IReadOnlyCollection<string> versions)
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (image[4] != 2 || image[5] != 1) throw new InvalidDataException("only little-endian ELF64 is supported");

        ulong sectionTable = U64(image, 0x28);
        int entrySize = U16(image, 0x3A), count = U16(image, 0x3C);
        int changed = 0;
        for (int s = 0; s < count; s++)
        {
            int header = Checked(sectionTable + (ulong)(s * entrySize), 64, image);
            if (U32(image, header + 4) != ShtGnuVerneed) continue;
            int offset = Checked(U64(image, header + 0x18), 16, image);
            int stringTableIndex = (int)U32(image, header + 0x28);
            int needCount = (int)U32(image, header + 0x2C);
            int stringTableHeader = Checked(sectionTable + (ulong)(stringTableIndex * entrySize), 64, image);
            int strings = Checked(U64(image, stringTableHeader + 0x18), 1, image);

            int need = offset;
            for (int n = 0; n < needCount; n++)
            {
                Checked((ulong)need, 16, image);
                int auxCount = U16(image, need + 2);
                int aux = need + (int)U32(image, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    Checked((ulong)aux, 16, image);
                    string name = CString(image, strings + (int)U32(image, aux + 8));
                    ushort flags = (ushort)U16(image, aux + 4);
                    if (Contains(versions, name) && (flags & VerFlgWeak) == 0)
                    {
                        flags |= VerFlgWeak;
                        image[aux + 4] = (byte)flags;
                        image[aux + 5] = (byte)(flags >> 8);
                        changed++;
                    }
                    aux += (int)U32(image, aux + 12);
                }
                need += (int)U32(image, need + 12);
            }
        }
        return changed;
    }

    static bool Contains(IReadOnlyCollection<string> set, string value)
    {
        foreach (string s in set) if (s == value) return true;
        return false;
    }

    static int Checked(ulong offset, int length, byte[] image)
    {
        if (offset + (ulong)length > (ulong)image.Length) throw new InvalidDataException($"offset {offset} is outside the file");
        return (int)offset;
    }

    static int U16(byte[] b, int o) => b[o] | (b[o + 1] << 8);
    static uint U32(byte[] b, int o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));
    static ulong U64(byte[] b, int o) => U32(b, o) | ((ulong)U32(b, o + 4) << 32);

    static string CString(byte[] b, int o)
    {
        int end = o;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, o, end - o);
    }
}
