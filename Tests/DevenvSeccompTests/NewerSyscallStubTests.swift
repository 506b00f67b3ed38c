@testable import DevenvSeccomp
import Testing

/// The ENOSYS stub on its own, with made-up ceilings and a final `ret ALLOW` standing in
/// for libseccomp's program.
@Suite struct NewerSyscallStubTests {
    static let allowAll = BPFInstruction.ret(SeccompAction.allow.rawValue)
    static let enosys = SeccompAction.errno(38)

    func run(_ ceilings: [SyscallCeiling], _ data: SeccompData) throws -> SeccompAction {
        let program = try NewerSyscallStub.instructions(ceilings: ceilings, errno: 38) + [Self.allowAll]
        return try SeccompSimulator.run(program, on: data).action
    }

    @Test func plainCeilingPerArchitecture() throws {
        let ceilings = [SyscallCeiling(architecture: .x86_64, highest: 450), SyscallCeiling(architecture: .x86, highest: 440)]
        #expect(try run(ceilings, SeccompData(.x86_64, number: 0)) == .allow)
        #expect(try run(ceilings, SeccompData(.x86_64, number: 450)) == .allow)
        #expect(try run(ceilings, SeccompData(.x86_64, number: 451)) == Self.enosys)
        #expect(try run(ceilings, SeccompData(.x86, number: 441)) == Self.enosys)
        #expect(try run(ceilings, SeccompData(.x86, number: 445 - 5)) == .allow)
        // Another ABI's numbers are not judged by these ceilings.
        #expect(try run(ceilings, SeccompData(.aarch64, number: 1000)) == .allow)
        // Without an x32 ceiling, x32 numbers pass through to libseccomp (which rejects them).
        #expect(try run(ceilings, SeccompData(.x32, number: Int32(bitPattern: 0x4000_0000 | 1000))) == .allow)
    }

    @Test func x32IsToldApartByBit30() throws {
        let x32 = try #require(SyscallCeiling(architecture: .x32, numbers: [0x4000_0000, 0x4000_01c8, 0x4000_0200, 0x4000_0223]))
        #expect(x32.highest == 0x4000_0223 && x32.highestGeneric == 0x4000_01c8)
        let ceilings = [SyscallCeiling(architecture: .x86_64, highest: 456), x32]
        let cases: [(UInt32, SeccompAction)] = [
            (0x4000_0000, .allow), (0x4000_01c8, .allow), (0x4000_01c9, Self.enosys), (0x4000_01ff, Self.enosys),
            (0x4000_0200, .allow), (0x4000_0223, .allow), (0x4000_0224, Self.enosys), (0xffff_ffff, Self.enosys),
        ]
        for (number, expected) in cases {
            #expect(try run(ceilings, SeccompData(.x32, number: Int32(bitPattern: number))) == expected, "0x\(String(number, radix: 16))")
        }
        // Native numbers keep the native ceiling.
        #expect(try run(ceilings, SeccompData(.x86_64, number: 457)) == Self.enosys)
        #expect(try run(ceilings, SeccompData(.x86_64, number: 456)) == .allow)
    }

    @Test func armPrivateRange() throws {
        let arm = try #require(SyscallCeiling(architecture: .arm, numbers: [3, 451, 0xf0001, 0xf0005]))
        let ceilings = [SyscallCeiling(architecture: .aarch64, highest: 451), arm]
        #expect(try run(ceilings, SeccompData(.arm, number: 452)) == Self.enosys)
        #expect(try run(ceilings, SeccompData(.arm, number: 0xf0002)) == .allow)
        #expect(try run(ceilings, SeccompData(.arm, number: 0xf0006)) == Self.enosys)
        #expect(try run(ceilings, SeccompData(.aarch64, number: 452)) == Self.enosys)
        #expect(try run(ceilings, SeccompData(.x86_64, number: 452)) == .allow)
    }

    @Test func noCeilingsNoStub() throws {
        #expect(try NewerSyscallStub.instructions(ceilings: [], errno: 38).isEmpty)
        #expect(SyscallCeiling(architecture: .x86_64, numbers: []) == nil)
    }

    @Test func assemblerRejectsUndefinedLabels() {
        var code = BPFAssembler()
        code.jump(BPFInstruction.jumpEQ, 1, ifTrue: "nowhere", ifFalse: "end")
        code.label("end")
        #expect(throws: SeccompError.self) { try code.assemble() }
    }
}
