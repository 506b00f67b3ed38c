import DevenvRuntime

// The container's init (docs/runtime.md): the same code as `devenv __init`, in an executable
// that links only the runtime, so each container start loads a handful of libraries instead
// of all of devenv's.
ContainerInit.main()
