import DevenvOCI
import DevenvSystem

/// Errors of the image store. Each names the operation and the object involved.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case system(SystemError)
    case digestMismatch(expected: Digest, actual: Digest, context: String)
    case sizeMismatch(digest: Digest, expected: Int64, actual: Int64, context: String)
    case blobNotFound(Digest)
    case imageNotFound(String)
    case invalidImage(String, reason: String)
    case corrupt(path: String, reason: String)
    case unpack(layer: Digest, underlying: String)
    case inUse(String)

    public var description: String {
        switch self {
        case let .system(error):
            return error.description
        case let .digestMismatch(expected, actual, context):
            return "\(context): digest mismatch: expected \(expected), got \(actual); the content was discarded"
        case let .sizeMismatch(digest, expected, actual, context):
            return "\(context): blob \(digest) should be \(expected) bytes but is \(actual); the content was discarded"
        case let .blobNotFound(digest):
            return "blob \(digest) is not in the store"
        case let .imageNotFound(name):
            return "image '\(Printable.escape(name))' not found in the store\nhint: `devenv image ls` lists the images; `devenv image import` adds one"
        case let .invalidImage(name, reason):
            return "image '\(Printable.escape(name))' is invalid: \(reason)"
        case let .corrupt(path, reason):
            return "store file \(Errno.quote(path)) is corrupt: \(reason)"
        case let .unpack(layer, underlying):
            return "unpack layer \(layer): \(underlying)"
        case let .inUse(what):
            return "\(what) is in use"
        }
    }
}

extension StoreError {
    /// Runs `body`, wrapping system errors so callers deal with one error type.
    static func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SystemError {
            throw StoreError.system(error)
        }
    }
}
