import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// Reading one extended attribute of a path without following a final symlink.
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
}
