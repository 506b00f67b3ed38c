import DevenvBuild
import DevenvAdopt
import DevenvOCI
import Foundation

/// The files of an earlier stage (or another image) that a `COPY --from` takes, read from
/// the image's snapshots through a `LayerView`. They keep their owner and mode; inputs are
/// named `stage:/path` so `--explain` says which file of which stage changed.
struct DockerfileStageFiles {
    let view: LayerView
    /// The stage's name or the image reference, for input names and messages.
    let label: String
    let statCache: StatCache

    func items(_ source: CopySource, location: String, keyword: String) throws -> [CopyItem] {
        var items: [CopyItem] = []
        for pattern in source.patterns {
            for path in try expand(pattern.value, location: location, keyword: keyword) {
                items.append(try item(path))
            }
        }
        return items
    }

    /// Matching paths with their (symlink-resolved) objects.
    private func expand(_ pattern: String, location: String, keyword: String) throws -> [(path: String, node: LayerView.Node)] {
        guard Glob.hasWildcards(pattern) else {
            guard let node = try view.resolve(pattern).node else {
                throw KitError.notInStage(location: location, instruction: keyword, stage: label, path: pattern)
            }
            return [(pattern, node)]
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
}
