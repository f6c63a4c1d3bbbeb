using Ulmfit.Engine;

namespace Ulmfit.Tests.Engine;

public sealed class OneDnnPrimitiveCacheTests
{
    [Fact]
    public void The_cap_goes_into_the_native_environment_once_and_a_value_already_there_wins()
    {
        if (!OperatingSystem.IsLinux()) return; // the native environment is set through libc
        // Given no capacity yet (or the user's own, which must survive)
        string? before = OneDnnPrimitiveCache.Current();

        bool applied = OneDnnPrimitiveCache.Limit(OneDnnPrimitiveCache.ServingCapacity);

        Assert.Equal(before is null, applied);
        Assert.Equal(before ?? "8", OneDnnPrimitiveCache.Current());
        Assert.False(OneDnnPrimitiveCache.Limit(1000));
        Assert.Equal(before ?? "8", OneDnnPrimitiveCache.Current());
    }
}
