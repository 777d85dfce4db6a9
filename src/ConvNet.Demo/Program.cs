// The `convnet` command: see Cli.cs for the command tree; each command lives in Commands/.
return ConvNet.Demo.Cli.Run(args, Console.Out, Console.Error);
