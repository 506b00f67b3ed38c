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
    /// `{"root": "/path"}`: the directory the state belongs to, so gc can tell when it is gone.
    public static let rootFile = "project.json"

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
    /// The project's running environments (`EnvironmentDirectory`).
    public var environmentsPath: String { "\(directory)/environments" }
    /// Services' records, logs and state files (`ProjectServices`).
    public var servicesPath: String { "\(directory)/services" }
    /// Named volumes of services, one directory each.
    public var volumesPath: String { "\(directory)/volumes" }
    /// `[shell] home = "persistent"`: one home directory per container uid.
    public var homesPath: String { "\(directory)/homes" }

    public func create() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The last build's record, if there is one that decodes.
    public func record() -> BuildRecord? {
        (try? FileDescriptor.readRegularFile(recordPath, limit: BuildRecord.maxSize, flags: O_NOFOLLOW))
            .flatMap { try? JSONDecoder().decode(BuildRecord.self, from: Data($0)) }
    }

    /// The project a state directory belongs to: a Dockerfile stage's `<id>-stage-<n>` is its project's.
    public var projectID: String { String(id.prefix { $0 != "-" }) }

    /// Creates the directory and remembers which checkout it belongs to (written once).
    public func claim(root: String) throws {
        try create()
        let path = "\(directory)/\(Self.rootFile)"
        guard access(path, F_OK) != 0 else { return }
        try? AtomicFile.write(OCIDocument.encode(["root": root]), to: path, mode: 0o600)
    }

    /// The checkout recorded by `claim`, if any.
    public var recordedRoot: String? {
        guard let bytes = try? FileDescriptor.readRegularFile("\(directory)/\(Self.rootFile)", limit: 1 << 16, flags: O_NOFOLLOW),
              let fields = try? JSONDecoder().decode([String: String].self, from: Data(bytes)),
              let root = fields["root"], root.hasPrefix("/") else { return nil }
        return root
    }

    /// The project id in a project image's name (`localhost/devenv/NAME:ID`, `…:ID-stage-1`,
    /// `…:ID-dockerfile`), or nil for any other image.
    public static func owner(ofImage name: String) -> String? {
        guard let reference = try? Reference(parsing: name), reference.registry == "localhost",
              reference.repository.hasPrefix("devenv/"), let tag = reference.tag else { return nil }
        let id = String(tag.prefix { $0 != "-" })
        return id.count == 12 && id.allSatisfy(\.isHexDigit) ? id : nil
    }
}
