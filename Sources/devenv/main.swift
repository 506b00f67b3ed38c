import DevenvLaunch
import DevenvRuntime

// The container's init may re-execute this binary; it must start before anything else so
// setup runs in a fresh single-threaded process (docs/runtime.md).
if ContainerInit.isEntry(CommandLine.arguments) {
    ContainerInit.main()
}

FrontDoor.main()
