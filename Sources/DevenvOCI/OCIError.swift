// Only the escaping is re-exported: DevenvText's located diagnostics would clash with Swift
// Testing's `SourceLocation` in every test that imports an OCI-based module.
@_exported import enum DevenvText.Printable
@_exported import enum DevenvText.Redaction
/// Errors of the OCI model: parsing and validating digests, references and documents.
public enum OCIError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidDigest(String, reason: String)
    case invalidReference(String, reason: String)
    case invalidDocument(what: String, reason: String)
    case unsupportedMediaType(String, context: String)
    case tooLarge(what: String, size: Int, limit: Int)

    public var description: String {
        switch self {
        case let .invalidDigest(text, reason):
            return "invalid digest '\(Printable.escape(text))': \(reason)"
        case let .invalidReference(text, reason):
            return "invalid image reference '\(Printable.escape(text))': \(reason)"
        case let .invalidDocument(what, reason):
            return "invalid \(what): \(reason)"
        case let .unsupportedMediaType(type, context):
            return "unsupported media type '\(Printable.escape(type))' in \(context)"
        case let .tooLarge(what, size, limit):
            return "\(what) is \(size) bytes, over the limit of \(limit) bytes"
        }
    }
}
