import DevenvOCI
import DevenvSystem

/// The one error type of DevenvArchive. It names the stage (unpack, create, recompress), the
/// layer or directory, the tar entry when there is one (escaped: entry names are untrusted),
/// and the reason, with the errno for failed system calls.
public struct ArchiveError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Stage: String, Sendable {
        case unpack, create, recompress, decompress
        /// Reading or writing an archive file (OCI archive, docker save) rather than a layer.
        case readArchive = "read archive", writeArchive = "write archive"
    }

    /// What went wrong, coarse enough for callers and tests to branch on.
    public enum Kind: Sendable, Equatable {
        /// A system call failed.
        case system(operation: String, errno: Int32)
        /// The bytes are not gzip, zstd or tar, or the declared compression disagrees.
        case unrecognizedFormat
        case compressionMismatch(declared: LayerCompression, actual: LayerCompression)
        /// A compressed stream or the tar ends early, or is corrupt.
        case truncated
        case corrupt
        /// A configured cap (bytes, entries, file size) was exceeded.
        case limitExceeded
        /// An entry would land outside the root (`..` above the root).
        case escapesRoot
        /// An entry the policy refuses: 0:0 character device, hardlink to a directory,
        /// out-of-range device numbers, an invalid whiteout name.
        case forbiddenEntry
        /// An entry's owner is not one of the ids this (rootless) user namespace maps.
        case unmappedOwner(uid: UInt32, gid: UInt32)
        case invalidWhiteout
        case missingLinkTarget
        /// The layer's result depends on lower layers that were not available (`LowerLayers.pending`).
        case needsLowerLayers
        /// The input tree is not something a layer can represent (overlay metacopy/redirect).
        case unsupportedInput
        /// libarchive refused the archive file (its message says why).
        case archiveFile
    }

    public let stage: Stage
    /// The layer file, or the directory being committed.
    public let object: String
    /// The raw tar entry path (or tree path), if the error concerns one entry.
    public let entry: [UInt8]?
    public let kind: Kind
    public let message: String

    public init(_ stage: Stage, object: String, entry: [UInt8]? = nil, kind: Kind, message: String) {
        self.stage = stage
        self.object = object
        self.entry = entry
        self.kind = kind
        self.message = message
    }

    public var errno: Int32? {
        if case let .system(_, code) = kind { return code }
        return nil
    }

    public var description: String {
        var text = "\(stage.rawValue) \(Printable.escape(object))"
        if let entry { text += ": entry '\(Printable.escape(bytes: entry))'" }
        text += ": \(message)"
        if case let .system(_, code) = kind { text += ": \(Errno.message(code)) (\(Errno.name(code)))" }
        return text
    }
}

/// An error raised deep inside a pass, before stage and object are known; the pass turns it
/// into an ArchiveError with `located(...)`.
struct Failure: Error {
    let entry: [UInt8]?
    let kind: ArchiveError.Kind
    let message: String

    init(entry: [UInt8]? = nil, _ kind: ArchiveError.Kind, _ message: String) {
        self.entry = entry
        self.kind = kind
        self.message = message
    }

    /// The current errno for `operation` (e.g. "mkdirat").
    static func system(_ operation: String, entry: [UInt8]? = nil, errno code: Int32 = devenvErrno()) -> Failure {
        Failure(entry: entry, .system(operation: operation, errno: code), operation)
    }

    var errno: Int32? {
        if case let .system(_, code) = kind { return code }
        return nil
    }

    func with(entry: [UInt8]) -> Failure {
        self.entry == nil ? Failure(entry: entry, kind, message) : self
    }

    func located(stage: ArchiveError.Stage, object: String) -> ArchiveError {
        ArchiveError(stage, object: object, entry: entry, kind: kind, message: message)
    }
}

extension Error {
    /// Converts any error thrown inside a pass into the module's error type.
    func archiveError(stage: ArchiveError.Stage, object: String) -> ArchiveError {
        switch self {
        case let failure as Failure: return failure.located(stage: stage, object: object)
        case let error as ArchiveError: return error
        case let error as SystemError:
            return ArchiveError(stage, object: object, kind: .system(operation: error.operation, errno: error.errno),
                                message: error.path.map { "\(error.operation) \(Errno.quote($0))" } ?? error.operation)
        default:
            return ArchiveError(stage, object: object, kind: .corrupt, message: "\(self)")
        }
    }
}
