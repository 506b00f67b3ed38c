import DevenvArchive
import DevenvBuild
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a rootless `COPY --from` takes, copied out of the stage by the user namespace's root
/// (`NamespaceHelper.mirror`). A rootless store's snapshots belong to subordinate ids, so a
/// file the stage left 0600 (or anything under a 0700 `/root`) is unreadable to the user, who
/// must hash and copy it. The mirror holds the matches as the user's own files (0600 files,
/// 0700 directories) and reports each node's owner and mode in the stage, which the copy keeps.
enum StageMirror {
    struct Request: Codable {
        /// The stage's snapshot directories, topmost first.
        var lowerDirs: [String]
        var patterns: [String]
        /// An empty directory of the user's, filled with one entry per match: `0`, `1`, ….
        var directory: String
        /// The user's ids inside the namespace: the mirror's owner.
        var user: RecordedOwner
    }

    /// A node's owner and permission bits in the stage.
    struct Metadata: Codable, Equatable {
        var uid: UInt32
        var gid: UInt32
        var mode: UInt32
    }

    struct Match: Codable, Equatable {
        /// The path in the stage, as the pattern matched it.
        var path: String
        /// The entry of the mirror directory that holds it.
        var entry: String
    }

    struct Result: Codable {
        /// Per pattern, in order; nil for a literal path the stage does not have.
        var matches: [[Match]?]
        /// By path below the mirror directory (`0`, `0/bin/tool`).
        var metadata: [String: Metadata]
    }

    // MARK: The helper's side

    /// Runs in the namespace: the stage's owners read as the image's.
    static func run(_ request: Request) throws -> Result {
        let view = LayerView(lowerDirs: request.lowerDirs, ownership: ImageOwnership(unpacker: request.user))
        var copier = Copier(view: view, user: request.user)
        var result = Result(matches: [], metadata: [:])
        for pattern in request.patterns {
            guard let found = try DockerfileStageFiles.matches(pattern, in: view) else {
                result.matches.append(nil)
                continue
            }
            var matches: [Match] = []
            for (path, node) in found {
                let entry = "\(copier.count)"
                try copier.copy(node, to: "\(request.directory)/\(entry)", key: entry)
                matches.append(Match(path: path, entry: entry))
            }
            result.matches.append(matches)
        }
        result.metadata = copier.metadata
        return result
    }

    private struct Copier {
        let view: LayerView
        let user: RecordedOwner
        var count = 0
        var metadata: [String: Metadata] = [:]

        init(view: LayerView, user: RecordedOwner) {
            self.view = view
            self.user = user
        }

        mutating func copy(_ node: LayerView.Node, to target: String, key: String) throws {
            if key.firstIndex(of: "/") == nil { count += 1 }
            metadata[key] = Metadata(uid: node.uid, gid: node.gid, mode: node.permissions)
            if node.isDirectory {
                guard mkdir(target, 0o700) == 0 else { throw SystemError.last("mkdir", path: target) }
                try own(target)
                for (name, child) in view.list(node).sorted(by: { $0.key < $1.key }) where child.isDirectory || child.isRegularFile || child.isSymlink {
                    try copy(child, to: "\(target)/\(name)", key: "\(key)/\(name)")
                }
            } else if node.isSymlink {
                let destination = try FileManager.default.destinationOfSymbolicLink(atPath: node.hostPath)
                guard symlink(destination, target) == 0 else { throw SystemError.last("symlink", path: target) }
                try own(target)
            } else if node.isRegularFile {
                let input = try FileDescriptor.openRegularFile(node.hostPath, flags: O_NOFOLLOW, operation: "copy")
                let output = try FileDescriptor.open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
                try input.readChunks(path: node.hostPath) { try output.writeAll($0, path: target) }
                try own(target)
            }
        }

        private func own(_ path: String) throws {
            guard lchown(path, user.uid, user.gid) == 0 else { throw SystemError.last("lchown", path: path) }
        }
    }
}

extension StageMirror {
    /// One build's mirror directories, under the project's state, removed when it ends; a
    /// killed build's are removed by the next one.
    final class Directories {
        let root: String
        private var count = 0

        init(stateDirectory: String) {
            root = "\(stateDirectory)/stage-files-\(getpid())"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
            for name in names where name.hasPrefix("stage-files-") {
                guard let pid = pid_t(name.dropFirst("stage-files-".count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
                try? DirectoryRemover.remove("\(stateDirectory)/\(name)")
            }
        }

        func next() throws -> String {
            guard mkdir(root, 0o700) == 0 || errno == EEXIST else { throw SystemError.last("mkdir", path: root) }
            let directory = "\(root)/\(count)"
            count += 1
            guard mkdir(directory, 0o700) == 0 else { throw SystemError.last("mkdir", path: directory) }
            return directory
        }

        func remove() {
            try? DirectoryRemover.remove(root)
        }
    }
}
