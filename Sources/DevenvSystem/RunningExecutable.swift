#if canImport(Glibc)
import Glibc
#endif

/// The file this process runs, through /proc/self/exe (so symlinks to it resolve): devenv finds
/// devenv-core and devenv-init beside itself.
public enum RunningExecutable {
    public static var path: String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `name` in the running executable's directory.
    public static func sibling(_ name: String) -> String? {
        path.map { PathName.parent($0) + "/" + name }
    }
}
