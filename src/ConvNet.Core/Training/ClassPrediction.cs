namespace ConvNet;

/// <summary>One of a sample's most probable classes (<see cref="Model.PredictTopK"/>): index, name and softmax probability.</summary>
public sealed record ClassPrediction(int Index, string Name, float Probability);
