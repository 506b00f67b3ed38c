import CGit2
#if canImport(Glibc)
import Glibc
#endif

/// The user's `user.name` and `user.email` as git itself resolves them outside any
/// repository (system, global `~/.gitconfig` and `$XDG_CONFIG_HOME/git/config`, with their
/// includes), read through libgit2 so every form git accepts is read the same way.
public struct GitUserIdentity: Equatable, Sendable {
    public var name: String?
    public var email: String?

    public init(name: String?, email: String?) {
        self.name = name
        self.email = email
    }

    /// nil when neither is set. A configuration libgit2 cannot read is an error naming it.
    public static func configured() throws -> GitUserIdentity? {
        try LibGit2.initialize()
        var config: OpaquePointer?
        try LibGit2.check("open the git configuration") { git_config_open_default(&config) }
        defer { git_config_free(config) }
        // A snapshot: reads of a live configuration may see a file change between them.
        var snapshot: OpaquePointer?
        try LibGit2.check("read the git configuration") { git_config_snapshot(&snapshot, config) }
        defer { git_config_free(snapshot) }
        let identity = GitUserIdentity(name: try value("user.name", in: snapshot), email: try value("user.email", in: snapshot))
        return identity.name == nil && identity.email == nil ? nil : identity
    }

    private static func value(_ key: String, in config: OpaquePointer?) throws -> String? {
        var pointer: UnsafePointer<CChar>?
        let code = git_config_get_string(&pointer, config, key)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        if code < 0 { throw GitError.last("read \(key) from the git configuration", code: code) }
        guard let pointer else { return nil }
        return String(validating: UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)).bindMemory(to: UInt8.self), as: UTF8.self)
    }
}
