namespace ConvNet.Data;

/// <summary>
/// How one class folder was divided by <see cref="SplitFolders"/>: full source paths of the files that go
/// to <c>train</c>, <c>val</c> and <c>test</c>, each list in split-folders' shuffled order.
/// </summary>
/// <param name="ClassName">The class folder's name.</param>
/// <param name="Train">Files for <c>train/&lt;class&gt;</c>.</param>
/// <param name="Val">Files for <c>val/&lt;class&gt;</c>.</param>
/// <param name="Test">Files for <c>test/&lt;class&gt;</c>; empty when the split has no test part.</param>
public sealed record ClassSplit(
    string ClassName,
    IReadOnlyList<string> Train,
    IReadOnlyList<string> Val,
    IReadOnlyList<string> Test);
