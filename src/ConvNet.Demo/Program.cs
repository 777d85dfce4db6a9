Console.Error.WriteLine("convnet: the demo is not implemented yet.");
return 1;
