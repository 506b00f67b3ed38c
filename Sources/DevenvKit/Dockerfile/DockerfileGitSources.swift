import DevenvAdopt
import DevenvBuild
import DevenvGit
import DevenvOCI
import Foundation

/// ADD's git sources, cloned through libgit2 into the project's state directory when the
/// step is planned (afresh on every build, as BuildKit resolves the ref each time; the
/// files' digests decide whether the step runs again). The work tree at the ref, or its
/// subdirectory, is copied whole (no .dockerignore), without `.git` unless `--keep-git-dir`.
enum DockerfileGitSources {
    static func items(_ sources: [GitSource], directory: String, location: String, statCache: StatCache) throws -> [CopyItem] {
        guard !sources.isEmpty else { return [] }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var items: [CopyItem] = []
        for source in sources {
            let name = "\(source.url)#\(source.ref ?? "")"
            let checkout = "\(directory)/\(Digest.sha256(Data(name.utf8)).encoded)"
            if FileManager.default.fileExists(atPath: checkout) { try FileManager.default.removeItem(atPath: checkout) }
            do {
                _ = try GitClone.clone(source.url, ref: source.ref, into: checkout)
            } catch let error as GitError {
                throw KitError.downloadFailed(location: location, url: source.url, reason: error.description)
            }
            if !source.keepGitDirectory { try FileManager.default.removeItem(atPath: "\(checkout)/.git") }
            let root = source.subdirectory.map { "\(checkout)/\($0)" } ?? checkout
            let context = try DockerfileContext(root: root, dockerfile: nil, statCache: statCache, readsIgnoreFile: false)
            // A subdirectory that is a symlink out of the clone is refused, as any source that leaves its context.
            guard context.root == checkout || context.root.hasPrefix(checkout + "/") else {
                throw KitError.downloadFailed(location: location, url: source.url, reason: "'\(source.subdirectory ?? "")' leaves the repository")
            }
            let whole = CopySource(origin: .context, patterns: [Word(".", at: source.location)], inline: [])
            items += try context.items(whole, unpack: false, location: location, keyword: "ADD")
        }
        return items
    }
}
