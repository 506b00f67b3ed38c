import CGit2
#if canImport(Glibc)
import Glibc
#endif

/// A git working tree opened through libgit2: where it is, what HEAD is, whether tracked
/// files changed, and which files belong to the project (tracked or untracked but not
/// ignored). Only this module imports libgit2.
///
/// Not thread-safe: libgit2 repository objects must not be used from two threads at once.
public final class GitRepository {
    let handle: OpaquePointer
    /// The working tree's root, without a trailing slash.
    public let workdir: String

    private init(handle: OpaquePointer, workdir: String) {
        self.handle = handle
        self.workdir = workdir
    }

    deinit {
        git_repository_free(handle)
    }

    /// Finds the repository containing `path`, walking up like `git` does (without crossing
    /// file systems, and ignoring `GIT_DIR` and friends). Handles the `.git` file form used
    /// by worktrees and submodules.
    /// - Returns: nil when `path` is not inside a git working tree.
    /// - Throws: `GitError` when the repository is bare, broken or not accessible.
    public static func discover(from path: String) throws -> GitRepository? {
        try LibGit2.initialize()
        // libgit2 reports a missing start directory, and a `.git` file pointing nowhere (a
        // worktree whose main clone was deleted), as "no repository". git itself stops with
        // an error in both cases; so do we, rather than treat the project as not in git.
        let start = try GitDiscovery.resolve(path)
        var flags: UInt32 = 0
        var openPath = start
        if let gitFileDirectory = try GitDiscovery.nearestGitFileDirectory(from: start) {
            flags = GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue
            openPath = gitFileDirectory
        }
        var handle: OpaquePointer?
        let code = git_repository_open_ext(&handle, openPath, flags, nil)
        if code == GIT_ENOTFOUND.rawValue && flags != 0 {
            throw GitError.last("open repository", object: openPath, code: code)
        }
        if code == GIT_ENOTFOUND.rawValue { return nil }
        guard code >= 0, let handle else { throw GitError.last("open repository", object: path, code: code) }
        guard let rawWorkdir = git_repository_workdir(handle) else {
            git_repository_free(handle)
            throw GitError("open repository", object: path, message: "the repository is bare and has no working tree")
        }
        var workdir: String
        do {
            workdir = try LibGit2.string(rawWorkdir, operation: "open repository")
        } catch {
            git_repository_free(handle)
            throw error
        }
        while workdir.count > 1 && workdir.hasSuffix("/") { workdir.removeLast() }
        return GitRepository(handle: handle, workdir: workdir)
    }

    /// The commit HEAD points at, as 40 hex digits; nil on an unborn branch (no commit yet).
    public var headCommit: String? {
        get throws {
            var reference: OpaquePointer?
            let code = git_repository_head(&reference, handle)
            if code == GIT_EUNBORNBRANCH.rawValue || code == GIT_ENOTFOUND.rawValue { return nil }
            guard code >= 0, let reference else { throw GitError.last("read HEAD", object: workdir, code: code) }
            defer { git_reference_free(reference) }
            var commit: OpaquePointer?
            try LibGit2.check("resolve HEAD to a commit", object: workdir) {
                git_reference_peel(&commit, reference, GIT_OBJECT_COMMIT)
            }
            defer { git_object_free(commit) }
            var text = [CChar](repeating: 0, count: Int(GIT_OID_HEXSZ) + 1)
            git_oid_tostr(&text, text.count, git_object_id(commit))
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// True when a tracked file differs from HEAD, in the index or in the working tree
    /// (like `git status --untracked-files=no` showing anything). Untracked files do not
    /// count; submodules count as configured by `submodule.<name>.ignore`.
    public var isDirty: Bool {
        get throws {
            var options = try statusOptions()
            options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
            options.flags = 0
            return try withStatusList(options, operation: "compute status") { list in
                git_status_list_entrycount(list) > 0
            }
        }
    }

    /// Whether `path` (relative to `workdir`) is ignored by `.gitignore`, `.git/info/exclude`
    /// or `core.excludesFile`, the way `git check-ignore` answers: a tracked file is never
    /// ignored. A path inside an ignored directory is ignored.
    public func isIgnored(path: String) throws -> Bool {
        let relative = try relativePath(path, operation: "check ignore rules")
        if relative.isEmpty { return false }
        if try isTracked(relative) { return false }
        var ignored: Int32 = 0
        try LibGit2.check("check ignore rules", object: path) {
            git_ignore_path_is_ignored(&ignored, handle, relative)
        }
        return ignored != 0
    }

    /// The project's files under `directory` (relative to `workdir`; "" for all): tracked
    /// files still present in the working tree plus untracked files that are not ignored,
    /// like `git ls-files --cached --others --exclude-standard` minus deleted files.
    /// Paths are relative to `workdir`, sorted by bytes, without duplicates. A submodule
    /// appears as its directory; an untracked nested repository as `name/`.
    public func trackedAndUnignoredFiles(under directory: String = "") throws -> [String] {
        let prefix = try relativePath(directory, operation: "list files")
        var files = Set(try indexPaths().filter { Self.path($0, isUnder: prefix) })
        var options = try statusOptions()
        options.show = GIT_STATUS_SHOW_WORKDIR_ONLY
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        try withStatusList(options, operation: "list untracked files") { list in
            for index in 0..<git_status_list_entrycount(list) {
                guard let entry = git_status_byindex(list, index), let delta = entry.pointee.index_to_workdir else { continue }
                let status = entry.pointee.status.rawValue
                if status & GIT_STATUS_WT_NEW.rawValue != 0, let raw = delta.pointee.new_file.path {
                    let path = try LibGit2.string(raw, operation: "list untracked files")
                    if Self.path(path, isUnder: prefix) { files.insert(path) }
                } else if status & GIT_STATUS_WT_DELETED.rawValue != 0, let raw = delta.pointee.old_file.path {
                    files.remove(try LibGit2.string(raw, operation: "list untracked files"))
                }
            }
        }
        return files.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    // MARK: - Helpers

    private func indexPaths() throws -> [String] {
        let index = try openIndex()
        defer { git_index_free(index) }
        var paths: [String] = []
        for position in 0..<git_index_entrycount(index) {
            guard let entry = git_index_get_byindex(index, position), let raw = entry.pointee.path else { continue }
            paths.append(try LibGit2.string(raw, operation: "read the index"))
        }
        return paths  // conflict stages repeat a path; callers collect into a Set
    }

    private func isTracked(_ relative: String) throws -> Bool {
        let index = try openIndex()
        defer { git_index_free(index) }
        if git_index_find(nil, index, relative) == 0 { return true }
        // A directory holding a tracked file is not ignored either (as `git check-ignore`).
        return git_index_find_prefix(nil, index, relative + "/") == 0
    }

    /// The repository's index, re-read from disk if another process (git) changed it
    /// since libgit2 cached it.
    private func openIndex() throws -> OpaquePointer {
        var index: OpaquePointer?
        try LibGit2.check("read the index", object: workdir) { git_repository_index(&index, handle) }
        guard let index else { throw GitError("read the index", object: workdir, message: "libgit2 returned no index") }
        do {
            try LibGit2.check("read the index", object: workdir) { git_index_read(index, 0) }
        } catch {
            git_index_free(index)
            throw error
        }
        return index
    }

    private func statusOptions() throws -> git_status_options {
        var options = git_status_options()
        try LibGit2.check("initialise status options") {
            git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION))
        }
        return options
    }

    private func withStatusList<T>(_ options: git_status_options, operation: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        var options = options
        var list: OpaquePointer?
        try LibGit2.check(operation, object: workdir) { git_status_list_new(&list, handle, &options) }
        guard let list else { throw GitError(operation, object: workdir, message: "libgit2 returned no status list") }
        defer { git_status_list_free(list) }
        return try body(list)
    }

    /// `path` relative to the working tree: accepts a relative path or an absolute path
    /// inside `workdir`; drops `./` and trailing slashes; refuses `..` and outside paths.
    private func relativePath(_ path: String, operation: String) throws -> String {
        var components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if path.hasPrefix("/") {
            let root = workdir.split(separator: "/").map(String.init)
            guard components.starts(with: root) else {
                throw GitError(operation, object: path, message: "path is outside the working tree \(GitText.quote(workdir))")
            }
            components.removeFirst(root.count)
        }
        components.removeAll { $0 == "." }
        if components.contains("..") {
            throw GitError(operation, object: path, message: "path must not contain '..'")
        }
        return components.joined(separator: "/")
    }

    private static func path(_ path: String, isUnder prefix: String) -> Bool {
        prefix.isEmpty || path == prefix || path.hasPrefix(prefix + "/")
    }
}
