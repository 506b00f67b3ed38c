import CGit2
#if canImport(Glibc)
import Glibc
#endif

/// A fresh clone for a Dockerfile's `ADD <git url>`: the whole repository fetched into a new
/// directory and its work tree checked out at one commit, detached.
public enum GitClone {
    /// Clones `url` into `directory` (which must not exist) and checks out `ref` — a
    /// branch, a tag or a commit id; nil is the remote's default branch. Returns the commit.
    public static func clone(_ url: String, ref: String?, into directory: String) throws -> String {
        try LibGit2.initialize()
        let operation = "clone \(url)"
        var options = git_clone_options()
        try LibGit2.check(operation) { git_clone_options_init(&options, UInt32(GIT_CLONE_OPTIONS_VERSION)) }
        var repository: OpaquePointer?
        try LibGit2.check(operation, object: url) { git_clone(&repository, url, directory, &options) }
        defer { git_repository_free(repository) }
        guard let repository else { throw GitError(operation, object: url, message: "libgit2 returned no repository") }
        let candidates = ref.map { ["refs/remotes/origin/\($0)", "refs/tags/\($0)", $0] } ?? ["HEAD"]
        var object: OpaquePointer?
        for candidate in candidates where git_revparse_single(&object, repository, candidate) == 0 { break }
        guard let object else {
            throw GitError(operation, object: url, message: "no branch, tag or commit '\(ref ?? "HEAD")'")
        }
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        try LibGit2.check("\(operation): find commit \(ref ?? "HEAD")", object: url) { git_object_peel(&commit, object, GIT_OBJECT_COMMIT) }
        defer { git_object_free(commit) }
        var checkout = git_checkout_options()
        try LibGit2.check(operation) { git_checkout_options_init(&checkout, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)) }
        checkout.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue
        try LibGit2.check("\(operation): check out \(ref ?? "HEAD")", object: url) { git_checkout_tree(repository, commit, &checkout) }
        let id = git_object_id(commit)
        try LibGit2.check("\(operation): detach HEAD", object: url) { git_repository_set_head_detached(repository, id) }
        return String(cString: git_oid_tostr_s(id))
    }
}
