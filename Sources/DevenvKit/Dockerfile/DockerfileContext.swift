import DevenvBuild
import DevenvAdopt
import DevenvOCI
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A build context directory as COPY and ADD see it: what `.dockerignore` excludes is not
/// there, sources may use wildcards, a symlink named as a source is followed (but never out
/// of the context), and every file is identified by its content digest.
struct DockerfileContext {
    /// Absolute and free of symlinks.
    let root: String
    let ignore: DockerfileIgnore
    let statCache: StatCache

    /// `dockerfile`'s own `<name>.dockerignore` wins over the context's `.dockerignore`, as in BuildKit.
    /// `readsIgnoreFile`: false for a cloned git source, which BuildKit copies whole.
    init(root: String, dockerfile: String?, statCache: StatCache, readsIgnoreFile: Bool = true) throws {
        guard let resolved = realpath(root, nil) else { throw SystemError.last("realpath", path: root) }
        defer { free(resolved) }
        self.root = String(cString: resolved)
        let candidates = readsIgnoreFile ? [dockerfile.map { "\($0).dockerignore" }, "\(self.root)/.dockerignore"].compactMap { $0 } : []
        var ignore = try DockerfileIgnore([], path: ".dockerignore")
        for candidate in candidates {
            guard let bytes = try FileDescriptor.readRegularFileIfPresent(candidate, limit: Dockerfile.maxFileSize, operation: "read the ignore file") else { continue }
            ignore = try DockerfileIgnore(bytes, path: candidate)
            break
        }
        self.ignore = ignore
        self.statCache = statCache
    }

    /// The files each source of a COPY or ADD (`unpack`: local tar archives are unpacked) contributes.
    func items(_ source: CopySource, unpack: Bool, location: String, keyword: String) throws -> [CopyItem] {
        var items: [CopyItem] = []
        for pattern in source.patterns {
            let matches = try expand(pattern.value, location: location, keyword: keyword)
            for path in matches {
                items.append(try item(path, unpack: unpack, location: location, keyword: keyword))
            }
        }
        return items
    }

    // MARK: Sources

    /// The context-relative paths a source names: itself, or what its wildcards match.
    private func expand(_ pattern: String, location: String, keyword: String) throws -> [String] {
        if pattern == "." { return [""] }
        guard Glob.hasWildcards(pattern) else {
            var info = stat()
            guard !ignore.excludes(pattern), lstat("\(root)/\(pattern)", &info) == 0 else {
                let excludedBy = ignore.excludes(pattern) ? ".dockerignore" : nil
                throw KitError.copySource(location: location, instruction: keyword, source: pattern, problem: .missing(scope: .buildContext, excludedBy: excludedBy))
            }
            return [pattern]
        }
        var candidates = [""]
        for segment in pattern.split(separator: "/").map(String.init) {
            var next: [String] = []
            for directory in candidates {
                let absolute = directory.isEmpty ? root : "\(root)/\(directory)"
                let names = Glob.hasWildcards(segment)
                    ? ((try? FileManager.default.contentsOfDirectory(atPath: absolute)) ?? []).filter {
                        Glob.matchComponent(Array(segment.unicodeScalars), Array($0.unicodeScalars))
                    }
                    : [segment]
                for name in names.sorted() {
                    let path = directory.isEmpty ? name : "\(directory)/\(name)"
                    var info = stat()
                    if !ignore.excludes(path), lstat("\(root)/\(path)", &info) == 0 { next.append(path) }
                }
            }
            candidates = next
        }
        return candidates
    }

    private func item(_ path: String, unpack: Bool, location: String, keyword: String) throws -> CopyItem {
        let name = path.isEmpty ? "." : (path as NSString).lastPathComponent
        let absolute = try followed(path, location: location, keyword: keyword)
        var info = stat()
        guard stat(absolute, &info) == 0 else { throw SystemError.last("stat", path: absolute) }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            let directory = String(absolute.dropFirst(root.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            var entries: [CopyEntry] = []
            try walk(directory, prefix: directory, into: &entries)
            return CopyItem(name: name, kind: .directory, entries: entries)
        case S_IFREG:
            var input = try statCache.input(absolute: absolute, relative: path)
            input.kind = .file
            let archive = try unpack && Self.isArchive(absolute, location: location)
            let kind: CopyItem.Kind = archive ? .archive : .file
            return CopyItem(name: name, kind: kind, entries: [CopyEntry(source: absolute, relative: "", input: input)])
        default:
            throw KitError.copySource(location: location, instruction: keyword, source: path, problem: .notFileOrDirectory(scope: .buildContext))
        }
    }

    /// A source path with symlinks resolved, which must stay inside the context.
    private func followed(_ path: String, location: String, keyword: String) throws -> String {
        let absolute = path.isEmpty ? root : "\(root)/\(path)"
        guard let resolved = realpath(absolute, nil) else { throw SystemError.last("realpath", path: absolute) }
        defer { free(resolved) }
        let target = String(cString: resolved)
        guard target == root || target.hasPrefix(root + "/") else {
            throw KitError.copySource(location: location, instruction: keyword, source: path, problem: .escapes(scope: .buildContext))
        }
        return target
    }

    /// Everything below the context directory `directory`, without following symlinks,
    /// skipping what `.dockerignore` excludes (but keeping directories that hold re-included files).
    private func walk(_ directory: String, prefix: String, into entries: inout [CopyEntry]) throws {
        let absolute = directory.isEmpty ? root : "\(root)/\(directory)"
        for name in try FileManager.default.contentsOfDirectory(atPath: absolute).sorted() {
            let path = directory.isEmpty ? name : "\(directory)/\(name)"
            let excluded = ignore.excludes(path)
            let child = "\(root)/\(path)"
            var info = stat()
            guard lstat(child, &info) == 0 else { continue }
            let relative = prefix.isEmpty ? path : String(path.dropFirst(prefix.count + 1))
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                if excluded && !ignore.hasExceptions { continue }
                var inside: [CopyEntry] = []
                try walk(path, prefix: prefix, into: &inside)
                if !excluded || !inside.isEmpty {
                    entries.append(CopyEntry(source: child, relative: relative, input: try statCache.input(absolute: child, relative: path)))
                    entries += inside
                }
            case S_IFREG, S_IFLNK:
                if excluded { continue }
                entries.append(CopyEntry(source: child, relative: relative, input: try statCache.input(absolute: child, relative: path)))
            default:
                // Sockets and fifos in a working tree are runtime leftovers, not sources.
                continue
            }
        }
    }

    // MARK: ADD archives

    /// Whether ADD unpacks the file: a tar archive, recognised by its header, or a gzip
    /// or zstd file named like a compressed tar.
    static func isArchive(_ path: String, location: String) throws -> Bool {
        // ADD names it as a source, so it is a regular file (or a symlink to one) in the context.
        let file = try FileDescriptor.openRegularFile(path, operation: "\(location): ADD source")
        let head = try file.readAll(limit: 511, path: path)
        if head.count >= 262, Array(head[257..<262]) == Array("ustar".utf8) { return true }
        let name = (path as NSString).lastPathComponent.lowercased()
        let tarName = [".tar.gz", ".tgz", ".tar.zst", ".tzst", ".tar.zstd", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tbz"].first { name.hasSuffix($0) }
        guard let tarName else { return false }
        if head.starts(with: [0x1F, 0x8B]) || head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return true }
        if head.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) || head.starts(with: Array("BZh".utf8)) {
            throw KitError.unsupportedArchive(location: location, name: name, format: tarName)
        }
        return false
    }

    /// Heredoc sources become files under `directory`, named by their content digest.
    static func inlineItems(_ files: [InlineFile], directory: String) throws -> [CopyItem] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try files.map { file in
            let data = Data(file.content.utf8)
            let digest = Digest.sha256(data)
            let path = "\(directory)/\(digest.encoded)"
            try AtomicFile.write(data, to: path, mode: 0o644)
            chmod(path, 0o644)
            let input = BuildInput(path: "<<\(file.name)", kind: .file, digest: digest, mode: 0o644)
            return CopyItem(name: file.name, kind: .file, entries: [CopyEntry(source: path, relative: "", input: input)])
        }
    }
}
