/// A compiled filter: the BPF instructions to hand to `seccomp(SECCOMP_SET_MODE_FILTER)` or
/// `prctl(PR_SET_SECCOMP)` in the child, plus what the compiler learned on the way.
public struct SeccompProgram: Hashable, Sendable {
    public let instructions: [BPFInstruction]
    /// How many leading instructions are the newer-syscall stub (0 without it).
    public let stubLength: Int
    /// Per ABI, the numbers above which calls are newer than the policy.
    public let ceilings: [SyscallCeiling]
    /// Syscall names in the policy that libseccomp does not know; they have no rule.
    public let unknownSyscalls: [String]
    /// libseccomp's pseudo filter code (seccomp_export_pfc) after a description of the stub:
    /// the human-readable dump for debugging.
    public let pseudoCode: String

    public init(instructions: [BPFInstruction], stubLength: Int, ceilings: [SyscallCeiling],
                unknownSyscalls: [String], pseudoCode: String) throws {
        try SeccompSimulator.validate(instructions)
        self.instructions = instructions
        self.stubLength = stubLength
        self.ceilings = ceilings
        self.unknownSyscalls = unknownSyscalls
        self.pseudoCode = pseudoCode
    }

    /// The raw `struct sock_filter` array, 8 bytes per instruction.
    public var bytes: [UInt8] { BPFInstruction.encode(instructions) }

    /// What the filter returns for a call, found by running it (see SeccompSimulator).
    public func action(for data: SeccompData) throws -> SeccompAction {
        try SeccompSimulator.run(instructions, on: data).action
    }

    /// The same by name on an ABI; nil if the ABI has no such syscall.
    public func action(for syscall: String, on architecture: SeccompArchitecture,
                       arguments: [UInt64] = []) throws -> SeccompAction? {
        guard let number = SeccompCompiler.number(of: syscall, on: architecture) else { return nil }
        return try action(for: SeccompData(architecture, number: Int32(bitPattern: number), arguments: arguments))
    }
}
