import DevenvLaunch
import DevenvRuntime

// The container's init may re-execute this binary; it must start before anything else so
// setup runs in a fresh single-threaded process (docs/runtime.md).
if CommandLine.arguments.count == 2, CommandLine.arguments[1] == ContainerInit.argument {
    ContainerInit.main()
}

FrontDoor.main()
