/// A seccomp policy as data: what libseccomp compiles, independent of any process.
public struct SeccompProfile: Hashable, Sendable {
    /// For syscalls no rule matches.
    public var defaultAction: SeccompAction
    /// For ABIs not in `architectures` (a process could switch ABI to dodge the rules).
    public var badArchitectureAction: SeccompAction
    /// The first is the native ABI.
    public var architectures: [SeccompArchitecture]
    public var rules: [SeccompRule]
    /// Every syscall name the source policy mentions, whether or not this capability set
    /// allows it. Numbers above the highest of these are "newer than the policy".
    public var namedSyscalls: Set<String>
    /// The errno for syscalls newer than the policy (runc's rule: ENOSYS, so that libc falls
    /// back to an older call); nil leaves them to `defaultAction`.
    public var newerSyscallErrno: Int32?

    public init(
        defaultAction: SeccompAction,
        badArchitectureAction: SeccompAction = .killProcess,
        architectures: [SeccompArchitecture],
        rules: [SeccompRule],
        namedSyscalls: Set<String>? = nil,
        newerSyscallErrno: Int32? = nil
    ) {
        self.defaultAction = defaultAction
        self.badArchitectureAction = badArchitectureAction
        self.architectures = architectures
        self.rules = rules
        self.namedSyscalls = namedSyscalls ?? Set(rules.map(\.syscall))
        self.newerSyscallErrno = newerSyscallErrno
    }

    public func rules(for syscall: String) -> [SeccompRule] {
        rules.filter { $0.syscall == syscall }
    }

    /// The action for a call by name, as the rules say: the first matching rule, else the
    /// default. Ignores the newer-syscall rule, which depends on numbers (see the compiler).
    public func action(for syscall: String, arguments: [UInt64] = []) -> SeccompAction {
        rules(for: syscall).first { $0.matches(arguments: arguments) }?.action ?? defaultAction
    }

    /// True when the call is allowed whatever its arguments.
    public func allowsUnconditionally(_ syscall: String) -> Bool {
        rules(for: syscall).contains { $0.action == .allow && $0.conditions.isEmpty }
    }
}
