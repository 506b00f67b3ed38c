import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// Extended attributes, of a path or of a node reached through a directory descriptor.
public enum ExtendedAttribute {
    /// The attribute's value, or nil when the path has none by that name (or the filesystem
    /// has no extended attributes). Values longer than `limit` bytes are treated as absent.
    public static func get(_ name: String, of path: String, limit: Int = 4096) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = buffer.withUnsafeMutableBytes { pointer in
            devenv_lgetxattr(path, name, pointer.baseAddress, limit)
        }
        guard count >= 0 else { return nil }
        return Array(buffer[..<count])
    }

    /// An open descriptor, or a `/proc/self/fd/<dir>/<name>` path for nodes that cannot be
    /// opened for reading (symlinks, devices, FIFOs): the l* calls on that path act on the
    /// node itself, found through the directory fd, never following a symlink. Names are
    /// bytes, never String, so non-UTF-8 names survive exactly.
    public enum Target {
        case descriptor(Int32)
        case node(directory: Int32, name: [UInt8])

        /// Runs the fd variant or the path variant of a call.
        func call(_ byDescriptor: (Int32) -> Int, _ byPath: (UnsafePointer<CChar>) -> Int) -> Int {
            switch self {
            case let .descriptor(fd): return byDescriptor(fd)
            case let .node(directory, name):
                return withCString(Array("/proc/self/fd/\(directory)/".utf8) + name) { byPath($0) }
            }
        }
    }

    /// All attribute names, in the order the filesystem returns them; none where the
    /// filesystem has no extended attributes.
    public static func names(_ target: Target) throws -> [[UInt8]] {
        while true {
            let size = target.call({ devenv_flistxattr($0, nil, 0) }, { devenv_llistxattr($0, nil, 0) })
            if size < 0 {
                if errno == ENOTSUP { return [] }
                throw SystemError.last("listxattr")
            }
            if size == 0 { return [] }
            var buffer = [CChar](repeating: 0, count: size)
            let count = buffer.withUnsafeMutableBufferPointer { pointer in
                target.call({ devenv_flistxattr($0, pointer.baseAddress, size) },
                            { devenv_llistxattr($0, pointer.baseAddress, size) })
            }
            if count < 0 {
                if errno == ERANGE { continue }
                throw SystemError.last("listxattr")
            }
            return buffer.prefix(count).split(separator: 0).map { $0.map { UInt8(bitPattern: $0) } }
        }
    }

    /// The value of `name`, or nil when the attribute does not exist.
    public static func value(_ target: Target, name: [UInt8]) throws -> [UInt8]? {
        try withCString(name) { cName in
            while true {
                let size = target.call({ devenv_fgetxattr($0, cName, nil, 0) }, { devenv_lgetxattr($0, cName, nil, 0) })
                if size < 0 {
                    if errno == ENODATA || errno == ENOTSUP { return nil }
                    throw SystemError.last("getxattr \(String(decoding: name, as: UTF8.self))")
                }
                var buffer = [UInt8](repeating: 0, count: size)
                let count = buffer.withUnsafeMutableBytes { pointer in
                    target.call({ devenv_fgetxattr($0, cName, pointer.baseAddress, size) },
                                { devenv_lgetxattr($0, cName, pointer.baseAddress, size) })
                }
                if count < 0 {
                    if errno == ERANGE { continue }
                    if errno == ENODATA { return nil }
                    throw SystemError.last("getxattr \(String(decoding: name, as: UTF8.self))")
                }
                return Array(buffer.prefix(count))
            }
        }
    }

    /// Sets an attribute; returns 0 or the errno (callers decide which refusals matter).
    public static func set(_ target: Target, name: [UInt8], value: [UInt8]) -> Int32 {
        let status = withCString(name) { cName in
            value.withUnsafeBytes { pointer in
                target.call({ Int(devenv_fsetxattr($0, cName, pointer.baseAddress, value.count, 0)) },
                            { Int(devenv_lsetxattr($0, cName, pointer.baseAddress, value.count, 0)) })
            }
        }
        return status == 0 ? 0 : errno
    }

    /// Removes an attribute; a missing one is no error.
    public static func remove(_ target: Target, name: [UInt8]) {
        _ = withCString(name) { cName in
            target.call({ Int(devenv_fremovexattr($0, cName)) }, { Int(devenv_lremovexattr($0, cName)) })
        }
    }
}
