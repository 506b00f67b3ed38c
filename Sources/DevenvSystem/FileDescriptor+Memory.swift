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
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0, path: path) }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}
