import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

extension FileDescriptor {
    /// An anonymous in-memory file (memfd_create, close-on-exec), e.g. for a library that
    /// only writes its output to a descriptor.
    public static func memory(name: String) throws -> FileDescriptor {
        let fd = devenv_memfd_create(name, DEVENV_MFD_CLOEXEC)
        guard fd >= 0 else { throw SystemError.last("memfd_create", path: name) }
        return FileDescriptor(adopting: fd)
    }

    /// Reads from the start of the file to its end.
    public func readAllFromStart(path: String? = nil) throws -> [UInt8] {
        guard lseek(raw, 0, SEEK_SET) == 0 else { throw SystemError.last("lseek", path: path) }
        return try Self.readAll(raw, path: path)
    }
}
