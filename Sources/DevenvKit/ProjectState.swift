import DevenvBuild
import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A project's state in the store, `projects/<id>/`: the last build record, the stat cache,
/// cache mounts, the build lock and scratch space (the builder names the files it keeps
/// there). The id derives from the checkout's root, so two clones of one repository are two
/// projects. Every path into `projects/` comes from here.
public struct ProjectState: Sendable, Equatable {
    public static let recordFile = "record.json"
    public static let statCacheFile = "statcache.json"

    public let id: String
    public let directory: String

    public init(layout: StoreLayout, id: String) {
        self.id = id
        directory = "\(Self.projects(layout))/\(id)"
    }

    /// The state of the checkout at `root` (a manifest, Dockerfile or devcontainer.json project).
    public init(layout: StoreLayout, root: String) {
        self.init(layout: layout, id: Self.id(root: root))
    }

    /// A stable id for the checkout at `root`.
    public static func id(root: String) -> String { String(Digest.sha256(Data(root.utf8)).encoded.prefix(12)) }

    /// Every project that has state in the store, by id.
    public static func all(in layout: StoreLayout) -> [ProjectState] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: projects(layout))) ?? []
        return ids.sorted().map { ProjectState(layout: layout, id: $0) }
    }

    private static func projects(_ layout: StoreLayout) -> String { "\(layout.root)/projects" }

    /// The last build's record (the builder writes it; `status` and gc read it).
    public var recordPath: String { "\(directory)/\(Self.recordFile)" }
    public var statCachePath: String { "\(directory)/\(Self.statCacheFile)" }

    public func create() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The last build's record, if there is one that decodes.
    public func record() -> BuildRecord? {
        (try? FileDescriptor.readRegularFile(recordPath, limit: BuildRecord.maxSize, flags: O_NOFOLLOW))
            .flatMap { try? JSONDecoder().decode(BuildRecord.self, from: Data($0)) }
    }
}
