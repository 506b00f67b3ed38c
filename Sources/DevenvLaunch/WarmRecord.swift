import DevenvOCI
import DevenvRuntime
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What the full CLI decided for one project invocation (`devenv run …`/`shell`/`build` in a
/// project), with the state of everything that decided it, so the front end can repeat the
/// result without devenv-core while nothing changed (docs/architecture.md, "Warm records").
///
/// Exact by construction: every file the decision read is watched by its lstat (inode,
/// size, mode, mtime, ctime, as git's index), the store files the up-to-date check needs must
/// still exist, the image name must still reach the same manifest, and the executables must be
/// the ones that wrote it. Anything else means the full CLI runs, which writes a new record.
public struct WarmRecord: Codable, Equatable, Sendable {
    public static let format = 4
    /// Records kept per store; the least recently written go first.
    static let limit = 64

    public var format = WarmRecord.format
    public var watched: [WatchedPath]
    /// Store files the full CLI's cache check reads (build-cache entries, blobs).
    public var required: [String]
    /// The image the project's name reached, and its manifest digest.
    public var image: String
    public var manifestDigest: String
    /// The image's snapshots by key (chain order) and, with `leaseDigests` (its blobs), what a
    /// session's lease claims; `snapshotStates` is the lstat of each snapshot's marker and
    /// directory as the full CLI found them complete, so a warm start reads neither the
    /// markers nor the image's manifest and config again.
    public var snapshotKeys: [String]
    public var snapshotStates: [WatchedPath]
    public var leaseDigests: [Digest]
    public var executables: [WatchedPath]
    public var outcome: Outcome

    public enum Outcome: Codable, Equatable, Sendable {
        /// `run`/`shell`: the container as the full CLI would start it for `host`.
        /// `defaultSeccomp`: the spec's filter was Docker's default for the container
        /// capabilities, left out here and taken from the front end's own cache.
        /// `environment`: the project's running environment the session starts or joins.
        /// `warnings`: the lines the full CLI printed on stderr before starting it, as
        /// `Terminal.note` made them safe; each derives only from what the record checks.
        case session(spec: ContainerSpec, host: HostIdentity, defaultSeccomp: Bool, environment: WarmEnvironment, warnings: [String])
        /// `build`: what the full CLI printed on stdout for a build with nothing to do.
        case build(output: String)
    }

    public init(watched: [WatchedPath], required: [String], image: String, manifestDigest: String, snapshotKeys: [String] = [],
                snapshotStates: [WatchedPath] = [], leaseDigests: [Digest] = [], executables: [WatchedPath] = WarmRecord.currentExecutables(),
                outcome: Outcome) {
        self.watched = watched
        self.required = required
        self.image = image
        self.manifestDigest = manifestDigest
        self.snapshotKeys = snapshotKeys
        self.snapshotStates = snapshotStates
        self.leaseDigests = leaseDigests
        self.executables = executables
        self.outcome = outcome
    }

    /// Whether every watched file and executable is as recorded and the required store files exist.
    public var isCurrent: Bool {
        format == Self.format && executables == Self.currentExecutables()
            && watched.allSatisfy(\.isUnchanged) && required.allSatisfy { access($0, F_OK) == 0 }
    }

    /// devenv and devenv-core beside the running executable: a new installation of either
    /// may decide differently.
    public static func currentExecutables() -> [WatchedPath] {
        guard let path = RunningExecutable.path else { return [] }
        let directory = PathName.parent(path)
        return ["devenv", "devenv-core"].map { WatchedPath("\(directory)/\($0)") }
    }

    // MARK: In the store

    /// `warm/<key>.json` in the store at `root`.
    public static func path(root: String, key: String) -> String { "\(root)/warm/\(key).json" }

    public static func load(root: String, key: String) -> WarmRecord? {
        guard let bytes = try? FileDescriptor.readRegularFile(path(root: root, key: key), limit: 4 << 20, flags: O_NOFOLLOW),
              let record = try? JSONDecoder().decode(WarmRecord.self, from: Data(bytes)), record.format == format
        else { return nil }
        return record
    }

    /// Best effort: without a record the next start only takes the full CLI's road.
    public func save(root: String, key: String) {
        let directory = "\(root)/warm"
        mkdir(directory, 0o700)
        guard let data = try? JSONEncoder().encode(self) else { return }
        // Not durable: a record lost in a power cut only costs one full start.
        try? AtomicFile.write(data, to: Self.path(root: root, key: key), mode: 0o600, durable: false)
        Self.prune(directory)
    }

    public static func remove(root: String, key: String) { unlink(path(root: root, key: key)) }

    /// Keeps the directory to `limit` records, removing the least recently written.
    static func prune(_ directory: String) {
        guard let stream = opendir(directory) else { return }
        var records: [(name: String, mtime: Int64)] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasSuffix(".json"), !name.hasPrefix(".") else { continue }
            var info = stat()
            guard fstatat(dirfd(stream), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            records.append((name, Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)))
        }
        closedir(stream)
        guard records.count > limit else { return }
        for old in records.sorted(by: { $0.mtime < $1.mtime }).prefix(records.count - limit) {
            unlink("\(directory)/\(old.name)")
        }
    }
}

/// Where a project session's environment is recorded, what the session asks of it, and the
/// services (in start order) it holds while it runs.
public struct WarmEnvironment: Codable, Equatable, Sendable {
    public var directory: String
    public var request: EnvironmentRequest
    public var services: [WarmService]

    public init(directory: String, request: EnvironmentRequest, services: [WarmService] = []) {
        self.directory = directory
        self.request = request
        self.services = services
    }
}

/// A service a recorded session needs: the front end replays the session only while the
/// service runs the definition the full CLI found (`fingerprint`, which a changed image or
/// manifest changes) and has passed its readiness check; otherwise the full CLI starts it.
public struct WarmService: Codable, Equatable, Sendable {
    /// The project's services' `EnvironmentDirectory`.
    public var directory: String
    public var name: String
    public var fingerprint: String

    public init(directory: String, name: String, fingerprint: String) {
        self.directory = directory
        self.name = name
        self.fingerprint = fingerprint
    }
}

/// A path and what lstat said about it when the record was made (nil: nothing there).
public struct WatchedPath: Codable, Equatable, Sendable {
    public var path: String
    public var state: FileState?

    public init(path: String, state: FileState?) {
        self.path = path
        self.state = state
    }

    /// The path as it is now; a path lstat cannot answer for (EACCES, ELOOP…) gets a state
    /// that matches nothing.
    public init(_ path: String) {
        self.path = path
        state = FileState.of(path)
    }

    public var isUnchanged: Bool { FileState.of(path) == state }
}

/// One JSON string each, `DEV INO MODE SIZE MTIME CTIME PATH` (or `- PATH` when nothing was
/// there): a record watches hundreds of paths, and decoding each as keyed containers was most
/// of the warm start's time in Codable.
extension WatchedPath {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = Self.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a watched path"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        guard let state else { return try container.encode("- " + path) }
        try container.encode("\(state.device) \(state.inode) \(state.mode) \(state.size) \(state.mtime) \(state.ctime) \(path)")
    }

    static func parse(_ text: String) -> WatchedPath? {
        if text.hasPrefix("- ") { return WatchedPath(path: String(text.dropFirst(2)), state: nil) }
        // The path is the rest, spaces and all.
        let fields = text.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: false)
        guard fields.count == 7, let device = UInt64(fields[0]), let inode = UInt64(fields[1]), let mode = UInt32(fields[2]),
              let size = Int64(fields[3]), let mtime = Int64(fields[4]), let ctime = Int64(fields[5])
        else { return nil }
        return WatchedPath(path: String(fields[6]), state: FileState(device: device, inode: inode, mode: mode, size: size, mtime: mtime, ctime: ctime))
    }
}

public struct FileState: Codable, Equatable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var mode: UInt32
    public var size: Int64
    /// Nanoseconds since the epoch.
    public var mtime: Int64
    public var ctime: Int64

    static let unknown = FileState(device: .max, inode: .max, mode: .max, size: -1, mtime: -1, ctime: -1)

    /// nil when nothing is at `path` (ENOENT, or ENOTDIR for a missing parent).
    public static func of(_ path: String) -> FileState? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return errno == ENOENT || errno == ENOTDIR ? nil : unknown }
        return FileState(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), mode: UInt32(info.st_mode), size: Int64(info.st_size),
                         mtime: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                         ctime: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
    }

    public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }

    /// Whether a change could hide behind the coarse timestamps: the file changed less than
    /// a second before `instant` (ns), when the full CLI may already have been reading it
    /// (git's "racy" entries). The record is then not written.
    public func isRacy(before instant: Int64) -> Bool { ctime > instant - 1_000_000_000 || mtime > instant - 1_000_000_000 }
}
