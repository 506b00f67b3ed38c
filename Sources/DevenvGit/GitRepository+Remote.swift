import CGit2
#if canImport(Glibc)
import Glibc
#endif

extension GitRepository {
    /// A remote: its name and fetch URL as configured.
    public struct Remote: Equatable, Sendable {
        public var name: String
        public var url: String
    }

    /// The remote a clone of this checkout would come from, as `git push` without arguments
    /// picks one: the current branch's upstream remote, else `origin`, else the only remote.
    /// nil when there is none to choose (no remote, or several and none of those).
    public var defaultRemote: Remote? {
        get throws {
            let names = try remoteNames()
            let preferred = try upstreamRemoteName() ?? (names.contains("origin") ? "origin" : names.count == 1 ? names[0] : nil)
            guard let preferred, names.contains(preferred) else { return nil }
            return try remote(named: preferred)
        }
    }

    public func remoteNames() throws -> [String] {
        var list = git_strarray()
        try LibGit2.check("list remotes", object: workdir) { git_remote_list(&list, handle) }
        defer { git_strarray_dispose(&list) }
        return try (0..<list.count).compactMap { index in
            try list.strings[index].map { try LibGit2.string($0, operation: "list remotes") }
        }
    }

    public func remote(named name: String) throws -> Remote {
        var remote: OpaquePointer?
        try LibGit2.check("look up remote \(name)", object: workdir) { git_remote_lookup(&remote, handle, name) }
        defer { git_remote_free(remote) }
        guard let pointer = git_remote_url(remote) else {
            throw GitError("look up remote \(name)", object: workdir, message: "the remote has no URL")
        }
        return Remote(name: name, url: try LibGit2.string(pointer, operation: "read the URL of remote \(name)"))
    }

    /// `branch.<current>.remote`; nil on a detached HEAD or a branch without an upstream.
    private func upstreamRemoteName() throws -> String? {
        var head: OpaquePointer?
        guard git_repository_head(&head, handle) == 0, let head else { return nil }
        defer { git_reference_free(head) }
        guard git_reference_is_branch(head) == 1, let refname = git_reference_name(head) else { return nil }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        guard git_branch_upstream_remote(&buffer, handle, refname) == 0, let pointer = buffer.ptr else { return nil }
        return try LibGit2.string(pointer, operation: "read the upstream remote")
    }
}
