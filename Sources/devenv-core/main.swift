import DevenvCLI
import DevenvRuntime

// The whole CLI, started by `devenv` (Sources/devenv) for everything but warm starts.
// Without devenv-init beside it, the container's init re-executes this binary.
if ContainerInit.isEntry(CommandLine.arguments) {
    ContainerInit.main()
}

DevenvMain.main()
