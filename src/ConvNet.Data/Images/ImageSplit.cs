namespace ConvNet.Data;

/// <summary>The parts of an already split image folder (e.g. split-folders output), sharing one class list.</summary>
/// <param name="Train">The <c>train</c> part.</param>
/// <param name="Val">The <c>val</c> (or <c>validation</c>) part.</param>
/// <param name="Test">The <c>test</c> part, or null when the folder has none.</param>
public sealed record ImageSplit(ImageFolderDataset Train, ImageFolderDataset Val, ImageFolderDataset? Test);

/// <summary>The parts of an already split image folder whose <c>test</c> part is required (see <see cref="ImageDatasets.LoadSplitWithTest"/>).</summary>
/// <param name="Train">The <c>train</c> part.</param>
/// <param name="Val">The <c>val</c> (or <c>validation</c>) part.</param>
/// <param name="Test">The <c>test</c> part.</param>
public sealed record ImageSplitWithTest(ImageFolderDataset Train, ImageFolderDataset Val, ImageFolderDataset Test);
