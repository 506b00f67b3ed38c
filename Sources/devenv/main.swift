import DevenvCLI
import DevenvRuntime

// The container's init re-executes this binary; it must start before any CLI machinery so
// setup runs in a fresh single-threaded process (docs/runtime.md).
if CommandLine.arguments.count == 2, CommandLine.arguments[1] == ContainerInit.argument {
    ContainerInit.main()
}

DevenvMain.main()
