namespace ConvNet.Data;

/// <summary>Progress of an image-folder load, reported after each file is decoded.</summary>
/// <param name="Completed">Files processed so far.</param>
/// <param name="Total">Image files found.</param>
/// <param name="Path">The file just processed.</param>
public readonly record struct LoadProgress(int Completed, int Total, string Path);
