import DevenvManifest
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every path whose state decides what a project build produces and how its session is
/// entered, for the warm records the front end checks (docs/architecture.md, "Warm
/// records"): a superset of what the build reads, so a change to any input changes one of
/// them. nil when the inputs cannot be watched that way; those projects always take the full CLI.
public enum WarmInputs {
    /// More entries than this under the copied directories are not worth watching.
    static let maxEntries = 20_000

    public static func paths(project: Project, directory: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String]? {
        guard project.manifest.base.dockerfile == nil, let physicalRoot = HostPath.real(project.root) else { return nil }
        var paths = [project.manifestPath, project.lockPath]
        paths += locatorProbes(from: directory, root: project.root)
        var sources: [String] = []
        for step in project.manifest.steps {
            guard case let .copy(copy) = step.action else { continue }
            sources += copy.sources.map { normalize($0.value) }
        }
        var entries = 0
        for source in sources {
            paths += components(of: source, in: project.root)
            guard walk(source.isEmpty ? project.root : "\(project.root)/\(source)", into: &paths, entries: &entries) else { return nil }
        }
        guard let git = gitPaths(from: physicalRoot, sources: sources.map { $0.isEmpty ? physicalRoot : "\(physicalRoot)/\($0)" }, environment: environment),
              let session = sessionPaths(project: project, environment: environment)
        else { return nil }
        return paths + git + session
    }

    /// What the session reads besides the build's inputs: `[shell] env_file` (and each
    /// directory on the way to it), each `[shell] dotfiles` entry (its `resolution`), whose
    /// presence decides its bind or its warning, and the ssh-agent socket `$SSH_AUTH_SOCK` names (and
    /// where a symlink there leads), whose presence decides the agent's mount. nil for an
    /// env file that is a symlink: its target is not watched.
    static func sessionPaths(project: Project, environment: [String: String]) -> [String]? {
        var paths: [String] = []
        if let envFile = project.manifest.shell.envFile?.value {
            let components = components(of: normalize(envFile), in: project.root)
            var info = stat()
            guard let file = components.last, lstat(file, &info) != 0 || (info.st_mode & S_IFMT) != S_IFLNK else { return nil }
            paths += components
        }
        if project.manifest.shell.gitIdentity {
            guard let configs = userGitConfigs(environment: environment) else { return nil }
            paths += configs
        }
        if !project.manifest.shell.dotfiles.isEmpty {
            guard let home = try? HostPath.home(environment: environment) else { return nil }
            for dotfile in project.manifest.shell.dotfiles {
                guard let resolution = resolution(of: dotfile.relativePath, in: home) else { return nil }
                paths += resolution
            }
        }
        if project.manifest.shell.sshAgent, let socket = environment["SSH_AUTH_SOCK"], socket.hasPrefix("/") {
            paths.append(socket)
            if let resolved = HostPath.real(socket), resolved != socket { paths.append(resolved) }
        }
        return paths
    }

    /// The files `ProjectSource.locate` looks for between the current directory and the
    /// project root: one appearing there would make that directory the project.
    static func locatorProbes(from directory: String, root: String) -> [String] {
        var probes: [String] = []
        var current = URL(fileURLWithPath: directory).standardizedFileURL.path
        while current != root, current.hasPrefix(root + "/") {
            probes += ([ProjectLocator.manifestPath] + DevContainerProject.candidates).map { "\(current)/\($0)" }
            current = (current as NSString).deletingLastPathComponent
        }
        return probes
    }

    /// Every path whose lstat decides where `relative` below `base` leads, as the kernel
    /// follows it: each component from `base` down, each symlink on the way and each
    /// component of where it points, up to the first missing one (its appearing is a change
    /// too, so a dangling symlink whose target appears is noticed). `base` and the
    /// directories above it are not watched: a file added to the home would change them.
    /// nil beyond 40 symlinks, where the kernel stops too (ELOOP).
    static func resolution(of relative: String, in base: String) -> [String]? {
        var paths: [String] = []
        var pending = relative.split(separator: "/").map(String.init)
        var current = base
        var links = 0
        while !pending.isEmpty {
            let part = pending.removeFirst()
            if part.isEmpty || part == "." { continue }
            if part == ".." {
                current = current == "/" ? "/" : (current as NSString).deletingLastPathComponent
                continue
            }
            let candidate = (current == "/" ? "" : current) + "/" + part
            if !(candidate == base || base.hasPrefix(candidate + "/")) { paths.append(candidate) }
            var info = stat()
            guard lstat(candidate, &info) == 0 else { return paths }
            guard (info.st_mode & S_IFMT) == S_IFLNK else {
                current = candidate
                continue
            }
            links += 1
            guard links <= 40, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: candidate) else { return nil }
            if target.hasPrefix("/") { current = "/" }
            pending = target.split(separator: "/").map(String.init) + pending
        }
        return paths
    }

    /// Each directory from the root down to a copy source, and the source: one replaced by a
    /// symlink changes where the copy reads from.
    static func components(of source: String, in root: String) -> [String] {
        var paths: [String] = []
        var current = root
        for part in source.split(separator: "/") {
            current += "/\(part)"
            paths.append(current)
        }
        return paths
    }

    /// Every entry below a copied directory (directories too: their mtime moves when an
    /// entry is added, removed or renamed). `.git` is skipped, as the build skips it.
    static func walk(_ path: String, into paths: inout [String], entries: inout Int) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return true }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return false }
        for name in names where name != ".git" {
            entries += 1
            guard entries <= maxEntries else { return false }
            let child = "\(path)/\(name)"
            paths.append(child)
            guard walk(child, into: &paths, entries: &entries) else { return false }
        }
        return true
    }

    // MARK: git

    /// The configuration files the session's git identity comes from (system, global, XDG);
    /// nil when one includes further files, which are not followed here.
    static func userGitConfigs(environment: [String: String]) -> [String]? {
        let home = environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home.map { "\($0)/.config" }
        let configs = ["/etc/gitconfig"] + [home.map { "\($0)/.gitconfig" }, configHome.map { "\($0)/git/config" }].compactMap { $0 }
        for config in configs {
            let bytes: [UInt8]?
            do { bytes = try FileDescriptor.readRegularFileIfPresent(config, limit: 1 << 20) } catch { return nil }
            if let bytes, excludesFiles(in: String(decoding: bytes, as: UTF8.self), home: home) == nil { return nil }
        }
        return configs
    }

    /// What decides the files git lists and the revision label: the repository's HEAD, the
    /// ref it names, the index, excludes and configuration, and each `.gitignore` from the
    /// work tree's root down to the copied directories. Outside a repository: the `.git`
    /// of every directory above, one of which `git init` would create. nil for the forms
    /// that read further files (`.git` files of worktrees and submodules, config includes).
    static func gitPaths(from physicalRoot: String, sources: [String], environment: [String: String]) -> [String]? {
        var paths: [String] = []
        var current = physicalRoot
        while true {
            let candidate = (current == "/" ? "" : current) + "/.git"
            paths.append(candidate)
            var info = stat()
            if lstat(candidate, &info) == 0 {
                guard (info.st_mode & S_IFMT) == S_IFDIR else { return nil }
                return repositoryPaths(gitDirectory: candidate, workdir: current, sources: sources, environment: environment).map { paths + $0 }
            }
            guard current != "/" else { return paths }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    static func repositoryPaths(gitDirectory: String, workdir: String, sources: [String], environment: [String: String]) -> [String]? {
        guard access("\(gitDirectory)/commondir", F_OK) != 0 else { return nil }
        var paths = ["HEAD", "index", "packed-refs", "config", "info/exclude", "commondir"].map { "\(gitDirectory)/\($0)" }
        guard let head = try? FileDescriptor.readRegularFile("\(gitDirectory)/HEAD", limit: 4096, flags: O_NOFOLLOW) else { return nil }
        let text = String(decoding: head, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("ref: ") {
            let ref = String(text.dropFirst(5))
            guard ref.hasPrefix("refs/"), !ref.split(separator: "/").contains("..") else { return nil }
            paths.append("\(gitDirectory)/\(ref)")
        }
        let home = environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home.map { "\($0)/.config" }
        let configs = ["/etc/gitconfig", "\(gitDirectory)/config"] + [home.map { "\($0)/.gitconfig" }, configHome.map { "\($0)/git/config" }].compactMap { $0 }
        for config in configs {
            let bytes: [UInt8]?
            do { bytes = try FileDescriptor.readRegularFileIfPresent(config, limit: 1 << 20) } catch { return nil }
            guard let bytes else { continue }
            guard let excludes = excludesFiles(in: String(decoding: bytes, as: UTF8.self), home: home) else { return nil }
            paths += excludes
        }
        paths += configs
        if let configHome { paths.append("\(configHome)/git/ignore") }
        for source in sources {
            var directory = source
            while directory.hasPrefix(workdir) {
                paths.append("\(directory)/.gitignore")
                guard directory != workdir, directory != "/" else { break }
                directory = (directory as NSString).deletingLastPathComponent
            }
        }
        return paths
    }

    /// The `core.excludesFile` paths a git configuration names (`~/` from HOME); nil when
    /// it includes other files or names one this reading cannot resolve exactly.
    static func excludesFiles(in config: String, home: String?) -> [String]? {
        var section = ""
        var paths: [String] = []
        for raw in config.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                section = line.lowercased()
                if section.hasPrefix("[include") { return nil }
                continue
            }
            guard section.hasPrefix("[core"), let equals = line.firstIndex(of: "=") else { continue }
            guard line[..<equals].trimmingCharacters(in: .whitespaces).lowercased() == "excludesfile" else { continue }
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !value.contains(where: { "\"\\;#".contains($0) }) else { return nil }
            if value.hasPrefix("/") {
                paths.append(value)
            } else if value.hasPrefix("~/"), let home {
                paths.append(home + value.dropFirst())
            } else {
                return nil
            }
        }
        return paths
    }

    private static func normalize(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
    }
}
