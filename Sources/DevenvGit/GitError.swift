import CGit2

/// A failed libgit2 call: the operation, the object (usually a path) and libgit2's message,
/// e.g. `open repository '/src/app': could not find repository at '/src/app' (code -3)`.
public struct GitError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let object: String?
    public let message: String
    public let code: Int32

    public init(_ operation: String, object: String? = nil, message: String, code: Int32 = -1) {
        self.operation = operation
        self.object = object
        self.message = message
        self.code = code
    }

    /// Captures libgit2's last error message for the current thread.
    static func last(_ operation: String, object: String? = nil, code: Int32) -> GitError {
        var message = "unknown libgit2 error"
        if let error = git_error_last(), let text = error.pointee.message {
            message = String(cString: text)
        }
        return GitError(operation, object: object, message: message, code: code)
    }

    public var description: String {
        var text = operation
        if let object { text += " " + GitText.quote(object) }
        return text + ": " + GitText.escape(message) + " (code \(code))"
    }
}
