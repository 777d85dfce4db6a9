using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>
/// Tests that count the bytes a training step allocates run alone: the kernels' worker pools are shared by the whole process,
/// and while other tests run at the same time, waiting for a busy pool was seen to allocate (hundreds of bytes, now and then).
/// </summary>
[CollectionDefinition("Allocation", DisableParallelization = true)]
public sealed class AllocationCollection;
