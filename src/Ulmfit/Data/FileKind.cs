using System.Runtime.InteropServices;

namespace Ulmfit.Data;

/// <summary>What a path names once symbolic links are followed: nothing yet, a regular file, a folder, or a special
/// file (character or block device, FIFO, socket) that must be written in place, never renamed over.</summary>
public enum FileKind { Missing, Regular, Directory, Special }

/// <summary>Reads a path's <see cref="FileKind"/> with stat(2): .NET reports devices and FIFOs as ordinary files.</summary>
public static class FileKinds
{
    const uint TypeMask = 0xF000, RegularType = 0x8000, DirectoryType = 0x4000; // S_IFMT, S_IFREG, S_IFDIR

    /// <summary>The kind of <paramref name="path"/> (links followed). Where stat is not available, an existing path
    /// that is not a folder counts as regular, which is what .NET itself assumes.</summary>
    public static FileKind Of(string path)
    {
        if (Directory.Exists(path)) return FileKind.Directory;
        if (!File.Exists(path)) return FileKind.Missing;
        // st_mode's offset in struct stat: 24 on x86-64 (after st_dev, st_ino, st_nlink), 16 on arm64 (the generic layout).
        int? modeOffset = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 when OperatingSystem.IsLinux() => 24,
            Architecture.Arm64 when OperatingSystem.IsLinux() => 16,
            _ => null,
        };
        if (modeOffset is not int offset) return FileKind.Regular;
        var status = new byte[256]; // larger than struct stat on either layout
        if (stat(path, status) != 0) return File.Exists(path) ? FileKind.Regular : FileKind.Missing;
        uint type = BitConverter.ToUInt32(status, offset) & TypeMask;
        return type switch
        {
            RegularType => FileKind.Regular,
            DirectoryType => FileKind.Directory,
            _ => FileKind.Special,
        };
    }

    [DllImport("libc", SetLastError = true)]
    static extern int stat(string path, byte[] status);
}
