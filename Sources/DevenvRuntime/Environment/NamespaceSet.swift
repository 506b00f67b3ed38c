import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Descriptors for the namespaces of a running container that differ from devenv's own, in
/// the order a joining process enters them: the user namespace first (it grants the
/// capabilities the others need), the mount namespace last.
struct NamespaceSet {
    static let order = ["user", "ipc", "uts", "net", "pid", "cgroup", "mnt"]

    private(set) var descriptors: [Int32] = []
    private(set) var kinds: [String] = []

    /// Opens `/proc/PID/ns/*` and then checks that `stamp` still names that process, so a
    /// reused pid cannot hand over another process's namespaces.
    static func open(of stamp: ProcessStamp) throws -> NamespaceSet {
        var set = NamespaceSet()
        do {
            for kind in order {
                let path = "/proc/\(stamp.pid)/ns/\(kind)"
                let descriptor = try FileDescriptor.openRaw(path, O_RDONLY)
                if sameNamespace(descriptor, "/proc/self/ns/\(kind)") {
                    _ = Glibc.close(descriptor)
                } else {
                    set.descriptors.append(descriptor)
                    set.kinds.append(kind)
                }
            }
        } catch let error as SystemError {
            set.close()
            throw RuntimeError.setup(error)
        }
        guard stamp.isAlive else {
            set.close()
            throw RuntimeError(.setup, "join environment: its init (pid \(stamp.pid)) has exited")
        }
        return set
    }

    func close() {
        for descriptor in descriptors { _ = Glibc.close(descriptor) }
    }

    private static func sameNamespace(_ descriptor: Int32, _ own: String) -> Bool {
        var theirs = stat(), ours = stat()
        guard fstat(descriptor, &theirs) == 0, stat(own, &ours) == 0 else { return false }
        return theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev
    }
}
