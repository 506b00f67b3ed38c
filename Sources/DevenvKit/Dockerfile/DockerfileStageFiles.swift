import DevenvBuild
import DevenvAdopt
import DevenvOCI
import Foundation

/// The files of an earlier stage (or another image) that a `COPY --from` takes, read from
/// the image's snapshots through a `LayerView`. They keep their owner and mode; inputs are
/// named `stage:/path` so `--explain` says which file of which stage changed. Rootless they
/// are read from a `StageMirror` instead, which the user can read.
struct DockerfileStageFiles {
    let view: LayerView
    /// The stage's name or the image reference, for input names and messages.
    let label: String
    let statCache: StatCache
    /// Rootless: the mirror directory and what the namespace's root found for each pattern.
    var mirror: (directory: String, result: StageMirror.Result)?

    func items(_ source: CopySource, location: String, keyword: String) throws -> [CopyItem] {
        var items: [CopyItem] = []
        for (index, pattern) in source.patterns.enumerated() {
            if let mirror {
                guard let matches = mirror.result.matches[index] else {
                    throw KitError.notInStage(location: location, instruction: keyword, stage: label, path: pattern.value)
                }
                items += try matches.map { try mirroredItem($0, mirror.directory, mirror.result.metadata) }
                continue
            }
            guard let matches = try Self.matches(pattern.value, in: view) else {
                throw KitError.notInStage(location: location, instruction: keyword, stage: label, path: pattern.value)
            }
            items += try matches.map(item)
        }
        return items
    }

    /// Matching paths with their (symlink-resolved) objects; nil for a literal path the
    /// view does not have (a wildcard that matches nothing is an empty list).
    static func matches(_ pattern: String, in view: LayerView) throws -> [(path: String, node: LayerView.Node)]? {
        guard Glob.hasWildcards(pattern) else {
            return try view.resolve(pattern).node.map { [(pattern, $0)] }
        }
        var candidates: [(path: String, node: LayerView.Node)] = [("", view.root)]
        for segment in pattern.split(separator: "/").map(String.init) {
            var next: [(path: String, node: LayerView.Node)] = []
            for (directory, node) in candidates {
                for (name, child) in view.list(node).sorted(by: { $0.key < $1.key })
                    where Glob.matchComponent(Array(segment.unicodeScalars), Array(name.unicodeScalars)) {
                    let path = "\(directory)/\(name)"
                    let resolved = child.isSymlink ? try view.resolve(path).node : child
                    if let resolved { next.append((path, resolved)) }
                }
            }
            candidates = next
        }
        return candidates
    }

    private func item(_ match: (path: String, node: LayerView.Node)) throws -> CopyItem {
        let name = (match.path as NSString).lastPathComponent
        if match.node.isDirectory {
            var entries: [CopyEntry] = []
            try walk(match.node, path: match.path, relative: "", into: &entries)
            return CopyItem(name: name.isEmpty ? "/" : name, kind: .directory, entries: entries)
        }
        return CopyItem(name: name, kind: .file, entries: [try entry(match.node, path: match.path, relative: "")])
    }

    private func walk(_ directory: LayerView.Node, path: String, relative: String, into entries: inout [CopyEntry]) throws {
        for (name, node) in view.list(directory).sorted(by: { $0.key < $1.key }) {
            let childPath = path == "/" ? "/\(name)" : "\(path)/\(name)"
            let childRelative = relative.isEmpty ? name : "\(relative)/\(name)"
            if node.isDirectory {
                entries.append(try entry(node, path: childPath, relative: childRelative))
                try walk(node, path: childPath, relative: childRelative, into: &entries)
            } else if node.isRegularFile || node.isSymlink {
                entries.append(try entry(node, path: childPath, relative: childRelative))
            }
            // Device nodes, fifos and sockets in a stage are not copied.
        }
    }

    private func entry(_ node: LayerView.Node, path: String, relative: String) throws -> CopyEntry {
        var input = try statCache.input(absolute: node.hostPath, relative: "\(label):\(path)")
        input.owner = "\(node.uid):\(node.gid)"
        return CopyEntry(source: node.hostPath, relative: relative, input: input, uid: node.uid, gid: node.gid)
    }

    // MARK: Mirrored (rootless)

    /// The same item `item` makes from the stage, made from its mirror: the mirror's files
    /// (plain, the user's) with the owners and modes the namespace's root saw.
    private func mirroredItem(_ match: StageMirror.Match, _ directory: String, _ metadata: [String: StageMirror.Metadata]) throws -> CopyItem {
        let name = (match.path as NSString).lastPathComponent
        let root = "\(directory)/\(match.entry)"
        let top = try mirroredEntry(root, key: match.entry, path: match.path, relative: "", metadata)
        guard top.input.kind == .directory else { return CopyItem(name: name, kind: .file, entries: [top]) }
        var entries: [CopyEntry] = []
        try mirroredWalk(root, key: match.entry, path: match.path, relative: "", metadata, into: &entries)
        return CopyItem(name: name.isEmpty ? "/" : name, kind: .directory, entries: entries)
    }

    /// In `walk`'s order, so a rootless build's inputs are a root build's.
    private func mirroredWalk(_ host: String, key: String, path: String, relative: String,
                              _ metadata: [String: StageMirror.Metadata], into entries: inout [CopyEntry]) throws {
        for child in try FileManager.default.contentsOfDirectory(atPath: host).sorted() {
            let childPath = path == "/" ? "/\(child)" : "\(path)/\(child)"
            let childRelative = relative.isEmpty ? child : "\(relative)/\(child)"
            let entry = try mirroredEntry("\(host)/\(child)", key: "\(key)/\(child)", path: childPath, relative: childRelative, metadata)
            entries.append(entry)
            if entry.input.kind == .directory {
                try mirroredWalk("\(host)/\(child)", key: "\(key)/\(child)", path: childPath, relative: childRelative, metadata, into: &entries)
            }
        }
    }

    private func mirroredEntry(_ host: String, key: String, path: String, relative: String,
                               _ metadata: [String: StageMirror.Metadata]) throws -> CopyEntry {
        guard let stage = metadata[key] else {
            throw KitError.helperFailed("\(Printable.escape(host)): the stage mirror has no metadata for it")
        }
        // Mirror paths change with every build: hashing them must not grow the stat cache.
        var input = try statCache.input(absolute: host, relative: "\(label):\(path)", remember: false)
        input.mode = stage.mode
        input.owner = "\(stage.uid):\(stage.gid)"
        return CopyEntry(source: host, relative: relative, input: input, uid: stage.uid, gid: stage.gid)
    }
}
