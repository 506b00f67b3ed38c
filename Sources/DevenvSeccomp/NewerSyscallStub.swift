/// The BPF that runs before libseccomp's program and returns an errno (ENOSYS) for syscall
/// numbers newer than the policy, as runc's `patchbpf` does. Without it those calls get the
/// default EPERM, and libc never tries its fallback (glibc only falls back on ENOSYS, e.g.
/// from faccessat2 to faccessat).
///
/// It checks `seccomp_data.arch` first, because numbers mean different calls in each ABI,
/// and tells x32 from x86_64 by bit 30 of the number. Every path ends in the errno return
/// or falls through to libseccomp's program, which reloads what it needs; ABIs without a
/// ceiling fall through untouched.
enum NewerSyscallStub {
    static let archOffset: UInt32 = 4
    static let nrOffset: UInt32 = 0

    static func instructions(ceilings: [SyscallCeiling], errno: Int32) throws -> [BPFInstruction] {
        let groups = auditGroups(ceilings)
        guard !groups.isEmpty else { return [] }
        var code = BPFAssembler()
        code.emit(.loadAbsolute(archOffset))
        for (index, group) in groups.enumerated() {
            let next = index + 1 < groups.count ? "arch\(index + 1)" : "pass"
            code.label("arch\(index)")
            code.jump(BPFInstruction.jumpEQ, group.auditArch, ifTrue: "body\(index)", ifFalse: next)
            code.label("body\(index)")
            code.emit(.loadAbsolute(nrOffset))
            if group.auditArch == SeccompArchitecture.x86_64.rawValue {
                let native = group.ceilings.first { $0.architecture == .x86_64 }
                let x32 = group.ceilings.first { $0.architecture == .x32 }
                code.jump(BPFInstruction.jumpSET, SeccompArchitecture.x32SyscallBit,
                          ifTrue: x32 == nil ? "pass" : "x32", ifFalse: native == nil ? "pass" : "native")
                if let native {
                    code.label("native")
                    emitChecks(native, into: &code)
                }
                if let x32 {
                    code.label("x32")
                    emitChecks(x32, into: &code)
                }
            } else {
                for ceiling in group.ceilings { emitChecks(ceiling, into: &code) }
            }
        }
        code.label("newer")
        code.emit(.ret(SeccompAction.errno(errno).rawValue))
        code.label("pass")
        return try code.assemble()
    }

    private struct AuditGroup {
        var auditArch: UInt32
        var ceilings: [SyscallCeiling]
    }

    /// x86_64 and x32 share an audit arch; every other ABI has its own.
    private static func auditGroups(_ ceilings: [SyscallCeiling]) -> [AuditGroup] {
        var groups: [AuditGroup] = []
        for ceiling in ceilings {
            let audit = ceiling.architecture.auditArch
            if let index = groups.firstIndex(where: { $0.auditArch == audit }) {
                groups[index].ceilings.append(ceiling)
            } else {
                groups.append(AuditGroup(auditArch: audit, ceilings: [ceiling]))
            }
        }
        return groups
    }

    /// Jumps to "newer" or "pass" (A holds the syscall number).
    private static func emitChecks(_ ceiling: SyscallCeiling, into code: inout BPFAssembler) {
        let name = "\(ceiling.architecture)"
        guard let base = ceiling.architecture.privateSyscallBase, let generic = ceiling.highestGeneric else {
            code.jump(BPFInstruction.jumpGT, ceiling.highest, ifTrue: "newer", ifFalse: "pass")
            return
        }
        code.jump(BPFInstruction.jumpGT, ceiling.highest, ifTrue: "newer", ifFalse: "\(name).private")
        code.label("\(name).private")
        code.jump(BPFInstruction.jumpGE, base, ifTrue: "pass", ifFalse: "\(name).generic")
        code.label("\(name).generic")
        code.jump(BPFInstruction.jumpGT, generic, ifTrue: "newer", ifFalse: "pass")
    }
}

/// A minimal classic-BPF assembler with forward labels, enough for the stub above.
struct BPFAssembler {
    private enum Item {
        case instruction(BPFInstruction)
        case jump(UInt16, UInt32, String, String)
    }

    private var items: [Item] = []
    private var labels: [String: Int] = [:]

    mutating func emit(_ instruction: BPFInstruction) { items.append(.instruction(instruction)) }

    mutating func jump(_ operation: UInt16, _ k: UInt32, ifTrue: String, ifFalse: String) {
        items.append(.jump(operation, k, ifTrue, ifFalse))
    }

    /// Labels the next instruction; a label at the end means "just past this program".
    mutating func label(_ name: String) { labels[name] = items.count }

    func assemble() throws -> [BPFInstruction] {
        try items.enumerated().map { index, item in
            switch item {
            case .instruction(let instruction):
                return instruction
            case .jump(let operation, let k, let ifTrue, let ifFalse):
                return BPFInstruction(code: BPFInstruction.classJMP | operation | BPFInstruction.sourceK,
                                      jt: try offset(to: ifTrue, from: index),
                                      jf: try offset(to: ifFalse, from: index), k: k)
            }
        }
    }

    private func offset(to label: String, from index: Int) throws -> UInt8 {
        guard let target = labels[label] else {
            throw SeccompError("assemble BPF", subject: label, reason: "undefined label")
        }
        let distance = target - index - 1
        guard let value = UInt8(exactly: distance) else {
            throw SeccompError("assemble BPF", subject: label, reason: "jump distance \(distance) out of range")
        }
        return value
    }
}
