import CSeccomp

/// Turns a `SeccompProfile` into BPF with libseccomp. Run it in the parent (the runtime
/// process): the child only loads the bytes and needs no libseccomp after fork.
public enum SeccompCompiler {
    public static func compile(_ profile: SeccompProfile) throws -> SeccompProgram {
        let context = try SeccompFilterContext(defaultAction: profile.defaultAction)
        try context.setAttribute(SCMP_FLTATR_ACT_BADARCH, profile.badArchitectureAction.rawValue, name: "bad architecture action")
        // A binary search over syscall numbers instead of a linear list of ~370 compares.
        try context.setAttribute(SCMP_FLTATR_CTL_OPTIMIZE, 2, name: "optimize")
        try context.setArchitectures(profile.architectures)
        var unknown: [String] = []
        // A rule whose action is the default is redundant, and libseccomp rejects it.
        for rule in profile.rules where rule.action != profile.defaultAction {
            if try !context.add(rule), !unknown.contains(rule.syscall) { unknown.append(rule.syscall) }
        }
        let body = try BPFInstruction.decode(try context.exportBPF())
        let ceilings = profile.newerSyscallErrno == nil ? [] : ceilings(for: profile)
        let stub = try profile.newerSyscallErrno.map { try NewerSyscallStub.instructions(ceilings: ceilings, errno: $0) } ?? []
        let program = stub + (try SocketcallGuard.instructions(for: profile)) + body
        guard program.count <= BPFInstruction.maximumCount else {
            throw SeccompError("compile seccomp filter",
                               reason: "\(program.count) instructions exceed the kernel's limit of \(BPFInstruction.maximumCount)")
        }
        return try SeccompProgram(
            instructions: program, stubLength: stub.count, ceilings: ceilings,
            unknownSyscalls: unknown.sorted(),
            pseudoCode: describe(ceilings, errno: profile.newerSyscallErrno) + SocketcallGuard.describe(profile) + context.exportPFC())
    }

    /// The ABI's number for a syscall name, from libseccomp's tables (x32 numbers include
    /// bit 30); nil if the ABI lacks it or libseccomp does not know it.
    public static func number(of syscall: String, on architecture: SeccompArchitecture) -> UInt32? {
        SeccompFilterContext.number(of: syscall, on: architecture)
    }

    public static func name(of number: UInt32, on architecture: SeccompArchitecture) -> String? {
        SeccompFilterContext.name(of: Int32(bitPattern: number), on: architecture)
    }

    /// The version of the libseccomp this process runs with, e.g. "2.5.4".
    public static var libseccompVersion: String {
        guard let version = seccomp_version()?.pointee else { return "unknown" }
        return "\(version.major).\(version.minor).\(version.micro)"
    }

    static func ceilings(for profile: SeccompProfile) -> [SyscallCeiling] {
        let names = profile.namedSyscalls.union(profile.rules.map(\.syscall))
        return profile.architectures.compactMap { architecture in
            SyscallCeiling(architecture: architecture, numbers: names.compactMap { number(of: $0, on: architecture) })
        }
    }

    private static func describe(_ ceilings: [SyscallCeiling], errno: Int32?) -> String {
        guard let errno else { return "" }
        var text = "#\n# devenv stub, before the filter below: newer syscalls get ERRNO(\(errno))\n"
        for ceiling in ceilings { text += "#   \(ceiling)\n" }
        return text
    }
}
