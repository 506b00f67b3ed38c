import DevenvOCI
import DevenvStore
import DevenvSystem
import Foundation

/// The one error type of DevenvRegistry. `operation` names what was being done to which
/// object (`pull 127.0.0.1:5000/x:1: GET layer sha256:…`), `reason` says why it failed.
/// Registry-supplied text is escaped before it gets here; whatever it still holds of a
/// credential is redacted when the error is rendered (`RegistrySecrets.redact`), so no path
/// that builds a message can forget it.
public struct RegistryError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Connection refused, reset or dropped.
        case transport
        /// No response, no data, or too little data within the configured time.
        case timeout
        /// An HTTP status the operation cannot go on with.
        case http(Int)
        case unauthorized
        case notFound
        /// A body over its limit, or a descriptor size over devenv's limits.
        case tooLarge
        /// Bytes that do not hash to the digest they were asked for.
        case digestMismatch
        /// A malformed manifest, index, config, token or header.
        case invalidContent
        /// Refused before downloading: too many layers, foreign layers, unknown media types.
        case refused
        /// Plain HTTP, or credentials, where only TLS is allowed.
        case insecure
        case credentials
        case configuration
        case store
        case cancelled
    }

    public var kind: Kind
    public var operation: String
    public var reason: String
    /// Whether trying the same request again may succeed (5xx, 429, dropped connections).
    var retryable: Bool
    /// A server's Retry-After, in seconds, when it sent one.
    var retryAfter: TimeInterval?

    init(_ kind: Kind, _ operation: String, _ reason: String, retryable: Bool = false, retryAfter: TimeInterval? = nil) {
        self.kind = kind
        self.operation = operation
        self.reason = reason
        self.retryable = retryable
        self.retryAfter = retryAfter
    }

    public var description: String { RegistrySecrets.redact(operation.isEmpty ? reason : "\(operation): \(reason)") }

    /// The same error with an outer operation in front (`pull X: ` + inner).
    func within(_ outer: String) -> RegistryError {
        var copy = self
        copy.operation = operation.isEmpty ? outer : "\(outer): \(operation)"
        return copy
    }

    /// A configuration file the user controls (auth config, registries.json), through the one
    /// reader for such files (no FIFO or device, bounded size); nil when it does not exist.
    static func readFile(_ path: String, limit: Int, kind: Kind) throws -> Data? {
        do {
            return try FileDescriptor.readRegularFileIfPresent(path, limit: limit).map { Data($0) }
        } catch let error as SystemError {
            throw RegistryError(error.errno == EFBIG ? .tooLarge : kind, "read \(path)", error.reason ?? "\(Errno.message(error.errno)) (\(Errno.name(error.errno)))")
        }
    }

    /// Wraps store and OCI model errors so callers handle one type.
    static func wrap<T>(_ operation: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as RegistryError {
            throw error.within(operation)
        } catch let error as OCIError {
            throw RegistryError(.invalidContent, operation, error.description)
        } catch let error as StoreError {
            switch error {
            case .digestMismatch, .sizeMismatch:
                throw RegistryError(.digestMismatch, operation, error.description)
            default:
                throw RegistryError(.store, operation, error.description)
            }
        } catch {
            throw RegistryError(.store, operation, "\(error)")
        }
    }
}
