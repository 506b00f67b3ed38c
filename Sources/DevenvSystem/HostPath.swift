#if canImport(Glibc)
import Glibc
#endif

/// Host paths derived from the process's state (current directory, `$HOME`, the account
/// database). Every one is absolute or an error: an empty or unresolvable value must never
/// become `/` (an empty current directory once turned `/workspace` into the host's root).
public enum HostPath {
    /// `path` with every symlink resolved (realpath(3)), or nil when it cannot be.
    public static func real(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The longest path getcwd is asked for; deeper directories fail with ENAMETOOLONG.
    static let maximumLength = 1 << 20

    /// The current directory through getcwd(3) with a growing buffer (Foundation's
    /// `currentDirectoryPath` gives "" beyond its fixed buffer). Throws when the directory is
    /// gone, unreachable (`(unreachable)/…` outside the root) or deeper than 1 MiB.
    public static func currentDirectory() throws -> String {
        var size = 4096
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            if getcwd(&buffer, size) != nil {
                let length = buffer.firstIndex(of: 0) ?? buffer.count
                let path = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                guard path.hasPrefix("/") else {
                    throw SystemError("resolve the current directory", path: path, errno: ENOENT,
                                      hint: "cd into a directory that exists inside this mount namespace")
                }
                return path
            }
            guard errno == ERANGE, size < maximumLength else {
                throw SystemError.last("resolve the current directory")
            }
            size *= 2
        }
    }

    /// `path` if absolute, else resolved against the current directory. An empty path is an
    /// error, not the current directory (nor `/`).
    public static func absolute(_ path: String, what: String = "path") throws -> String {
        guard !path.isEmpty else { throw SystemError("resolve \(what)", path: path, errno: ENOENT) }
        if path.hasPrefix("/") { return path }
        return try currentDirectory() + "/" + path
    }

    /// `$HOME` when it is absolute, else the account database's home directory for `uid`;
    /// throws when neither is.
    public static func home(environment: [String: String], uid: uid_t = geteuid()) throws -> String {
        if let home = environment["HOME"], home.hasPrefix("/") { return home }
        if let entry = getpwuid(uid), let directory = entry.pointee.pw_dir {
            let home = String(cString: directory)
            if home.hasPrefix("/") { return home }
        }
        throw SystemError("find the home directory of uid \(uid)", errno: ENOENT,
                          hint: "set HOME to an absolute path")
    }
}
