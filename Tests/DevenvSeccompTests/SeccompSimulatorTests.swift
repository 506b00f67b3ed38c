@testable import DevenvSeccomp
import Testing

@Suite struct SeccompSimulatorTests {
    static func ret(_ value: UInt32) -> BPFInstruction { BPFInstruction(code: 0x06, k: value) }

    @Test(arguments: [
        ([BPFInstruction](), "0 instructions"),
        ([BPFInstruction(code: 0x20, k: 2), ret(0)], "offset 2"),
        ([BPFInstruction(code: 0x20, k: 64), ret(0)], "offset 64"),
        ([BPFInstruction(code: 0x15, jt: 1, jf: 0, k: 0), ret(0)], "jumps past the end"),
        ([BPFInstruction(code: 0x05, k: 1), ret(0)], "jumps past the end"),
        ([BPFInstruction(code: 0x20, k: 0)], "not a return"),
        ([BPFInstruction(code: 0x28, k: 0), ret(0)], "opcode 0x28"),   // ld half-word: not for seccomp
        ([BPFInstruction(code: 0x94, k: 3), ret(0)], "opcode 0x94"),   // mod: not for seccomp
        ([BPFInstruction(code: 0x02, k: 16), ret(0)], "memory slot 16"),
        ([BPFInstruction(code: 0x34, k: 0), ret(0)], "divides by zero"),
        ([BPFInstruction](repeating: ret(0), count: 4097), "4097 instructions"),
    ])
    func rejectsWhatTheKernelRejects(program: [BPFInstruction], reason: String) {
        #expect {
            try SeccompSimulator.validate(program)
        } throws: { error in
            "\(error)".hasPrefix("check BPF program: ") && "\(error)".contains(reason)
        }
    }

    @Test func readsSeccompDataLikeTheKernel() throws {
        let data = SeccompData(nr: 41, arch: 0xc000_003e, instructionPointer: 0x1122_3344_5566_7788,
                               arguments: [0x1_0000_0028, 7])
        let cases: [(UInt32, UInt32)] = [(0, 41), (4, 0xc000_003e), (8, 0x5566_7788), (12, 0x1122_3344),
                                         (16, 0x28), (20, 1), (24, 7), (28, 0), (60, 0)]
        for (offset, expected) in cases {
            let program = [BPFInstruction(code: 0x20, k: offset), BPFInstruction(code: 0x16)]  // ld [k]; ret A
            #expect(try SeccompSimulator.run(program, on: data).value == expected, "offset \(offset)")
        }
    }

    @Test func arithmeticMemoryAndJumps() throws {
        // A = nr; X = A; A = (A + 3) * 2 >> 1 ^ 1; M[5] = A; A = X; A = M[5]; if A == 43 allow else kill.
        let program: [BPFInstruction] = [
            BPFInstruction(code: 0x20, k: 0), BPFInstruction(code: 0x07),
            BPFInstruction(code: 0x04, k: 3), BPFInstruction(code: 0x24, k: 2), BPFInstruction(code: 0x74, k: 1),
            BPFInstruction(code: 0xa4, k: 1), BPFInstruction(code: 0x02, k: 5), BPFInstruction(code: 0x87),
            BPFInstruction(code: 0x60, k: 5), BPFInstruction(code: 0x15, jt: 0, jf: 1, k: 43),
            Self.ret(SeccompAction.allow.rawValue), Self.ret(SeccompAction.killProcess.rawValue),
        ]
        let outcome = try SeccompSimulator.run(program, on: SeccompData(nr: 39, arch: 0))
        #expect(outcome.action == .allow)  // ((39 + 3) * 2 >> 1) ^ 1 = 43
        #expect(outcome.steps == 11)
        #expect(try SeccompSimulator.run(program, on: SeccompData(nr: 1, arch: 0)).action == .killProcess)
    }

    @Test func divisionByZeroRegisterKills() throws {
        let program = [BPFInstruction(code: 0x01, k: 0), BPFInstruction(code: 0x3c), Self.ret(SeccompAction.allow.rawValue)]
        #expect(try SeccompSimulator.run(program, on: SeccompData(nr: 1, arch: 0)).action == .killThread)
    }

    @Test(arguments: [SeccompAction.allow, .errno(1), .errno(38), .killThread, .killProcess, .trap, .trace(7), .log, .userNotify])
    func actionsRoundTrip(action: SeccompAction) {
        #expect(SeccompAction(rawValue: action.rawValue) == action)
    }

    @Test func instructionsRoundTripThroughBytes() throws {
        let program = [BPFInstruction(code: 0x15, jt: 3, jf: 250, k: 0xdead_beef), Self.ret(0x7fff_0000)]
        let bytes = BPFInstruction.encode(program)
        #expect(bytes == [0x15, 0x00, 3, 250, 0xef, 0xbe, 0xad, 0xde, 0x06, 0x00, 0, 0, 0x00, 0x00, 0xff, 0x7f])
        #expect(try BPFInstruction.decode(bytes) == program)
        #expect(throws: SeccompError.self) { try BPFInstruction.decode([1, 2, 3]) }
    }
}
