import DevenvSystem

/// The one error type of this module: the operation, what it was applied to (a syscall,
/// an architecture, a capability name) and either an errno or a reason, e.g.
/// `seccomp_rule_add_array socket: invalid argument (EINVAL)`.
public struct SeccompError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let subject: String?
    public let errno: Int32?
    public let reason: String?

    public init(_ operation: String, subject: String? = nil, errno: Int32? = nil, reason: String? = nil) {
        self.operation = operation
        self.subject = subject
        self.errno = errno
        self.reason = reason
    }

    /// libseccomp returns `-errno`; this keeps the positive value.
    static func libseccomp(_ operation: String, subject: String? = nil, result: Int32) -> SeccompError {
        SeccompError(operation, subject: subject, errno: -result)
    }

    public var description: String {
        var text = operation
        if let subject { text += " " + Errno.quote(subject) }
        if let errno { text += ": \(Errno.message(errno)) (\(Errno.name(errno)))" }
        if let reason { text += (errno == nil ? ": " : "; ") + reason }
        return text
    }
}
