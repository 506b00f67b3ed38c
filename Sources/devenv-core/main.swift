import DevenvCLI
import DevenvRuntime

// The whole CLI, started by `devenv` (Sources/devenv) for everything but warm starts.
// Without devenv-init beside it, the container's init re-executes this binary.
if CommandLine.arguments.count == 2, CommandLine.arguments[1] == ContainerInit.argument {
    ContainerInit.main()
}

DevenvMain.main()
