/// The BPF that runs before libseccomp's program and refuses i386 `socketcall(2)` for every
/// socket call that has an argument rule.
///
/// libseccomp adds a rule on a socket call to the x86 ABI twice: on the direct syscall
/// (socket = 359) with its conditions, and on socketcall with `a0 == SYS_SOCKET` in place
/// of the conditions on a0, because the call's real arguments sit in memory. A conditional
/// allow (socket's family rules) thus becomes an unconditional one through socketcall: that
/// is how Docker's profile lets 32-bit code create AF_VSOCK and AF_ALG sockets. The guard
/// returns the profile's default action for those calls, so an argument rule on a socket
/// call binds on every route into the kernel.
enum SocketcallGuard {
    /// socketcall's call numbers (`SYS_SOCKET`… in linux/net.h), by direct syscall name.
    static let calls: [String: UInt32] = [
        "socket": 1, "bind": 2, "connect": 3, "listen": 4, "accept": 5, "getsockname": 6, "getpeername": 7,
        "socketpair": 8, "send": 9, "recv": 10, "sendto": 11, "recvfrom": 12, "shutdown": 13, "setsockopt": 14,
        "getsockopt": 15, "sendmsg": 16, "recvmsg": 17, "accept4": 18, "recvmmsg": 19, "sendmmsg": 20,
    ]
    /// socketcall on i386, the only modelled ABI that has it.
    static let socketcallNumber: UInt32 = 102
    static let firstArgumentOffset: UInt32 = 16  // seccomp_data.args[0], low half (little-endian)

    /// The socketcall numbers whose direct call has a rule with conditions.
    static func guardedCalls(_ profile: SeccompProfile) -> [UInt32] {
        calls.filter { name, _ in profile.rules(for: name).contains { !$0.conditions.isEmpty } }.map(\.value).sorted()
    }

    static func instructions(for profile: SeccompProfile) throws -> [BPFInstruction] {
        let guarded = guardedCalls(profile)
        guard profile.architectures.contains(.x86), !guarded.isEmpty else { return [] }
        var code = BPFAssembler()
        code.emit(.loadAbsolute(NewerSyscallStub.archOffset))
        code.jump(BPFInstruction.jumpEQ, SeccompArchitecture.x86.rawValue, ifTrue: "nr", ifFalse: "pass")
        code.label("nr")
        code.emit(.loadAbsolute(NewerSyscallStub.nrOffset))
        code.jump(BPFInstruction.jumpEQ, socketcallNumber, ifTrue: "call", ifFalse: "pass")
        code.label("call")
        code.emit(.loadAbsolute(firstArgumentOffset))
        for (index, call) in guarded.enumerated() {
            code.jump(BPFInstruction.jumpEQ, call, ifTrue: "refuse", ifFalse: index + 1 < guarded.count ? "next\(index)" : "pass")
            code.label("next\(index)")
        }
        code.label("refuse")
        code.emit(.ret(profile.defaultAction.rawValue))
        code.label("pass")
        return try code.assemble()
    }

    static func describe(_ profile: SeccompProfile) -> String {
        let guarded = guardedCalls(profile)
        guard profile.architectures.contains(.x86), !guarded.isEmpty else { return "" }
        return "#\n# devenv guard, before the filter below: i386 socketcall(a0 in \(guarded)) gets \(profile.defaultAction)\n"
    }
}
