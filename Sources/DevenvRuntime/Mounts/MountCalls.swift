import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// The calls `MountExecutor` makes that change mounts or the process's root. `LinuxMountCalls`
/// makes them; tests record them to check a plan's exact sequence (flags, confined targets,
/// a failure midway) without root. Opens and directory creation inside the new root are not
/// behind this: they need no privilege, so they stay real in tests too, and they are what
/// confines each target. Targets are `/proc/self/fd/N` paths of descriptors resolved in-root.
protocol MountCalls {
    func mount(_ source: String?, on target: String, type: String?, flags: MountFlags, data: String?, describe: String) throws
    /// `flags` added to the mount at `descriptor` and every mount below it.
    func restrict(_ descriptor: Int32, _ flags: MountFlags, describe: String) throws
    func mountOverlay(_ overlay: OverlayMount, on target: String, flags: MountFlags) throws
    func bindIdmapped(_ source: Int32, onto target: Int32, flags: MountFlags, userNamespace: Int32, describe: String) throws
    /// Makes `root` the process's root (and working directory) and detaches the old root.
    func pivotRoot(into root: RootDirectory) throws
}

/// The real calls; a generic `MountExecutor` specialised on it costs nothing over direct calls.
struct LinuxMountCalls: MountCalls {
    func mount(_ source: String?, on target: String, type: String?, flags: MountFlags, data: String?, describe: String) throws {
        try Mount.mount(source, on: target, type: type, flags: flags, data: data, describe: describe)
    }

    func restrict(_ descriptor: Int32, _ flags: MountFlags, describe: String) throws {
        try Mount.restrict(descriptor, flags, describe: describe)
    }

    func mountOverlay(_ overlay: OverlayMount, on target: String, flags: MountFlags) throws {
        try overlay.mount(on: target, flags: flags)
    }

    func bindIdmapped(_ source: Int32, onto target: Int32, flags: MountFlags, userNamespace: Int32, describe: String) throws {
        try Mount.bindIdmapped(source, onto: target, flags: flags, userNamespace: userNamespace, describe: describe)
    }

    /// pivot_root(".", "."): the old root ends up stacked on the new one and is detached
    /// right away, without needing a directory for it inside the image.
    func pivotRoot(into root: RootDirectory) throws {
        guard fchdir(root.raw) == 0 else { throw SystemError.last("chdir", path: root.hostPath) }
        try Mount.pivotRoot(".", putOld: ".", describe: "pivot_root", path: root.hostPath)
        try Mount.detach(".", describe: "detach old root")
        guard chdir("/") == 0 else { throw SystemError.last("chdir", path: "/") }
    }
}
