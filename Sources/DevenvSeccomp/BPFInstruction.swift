/// One classic BPF instruction, laid out as the kernel's `struct sock_filter` (8 bytes,
/// host byte order): what `prctl(PR_SET_SECCOMP)` and `seccomp(2)` load.
public struct BPFInstruction: Hashable, Sendable, CustomStringConvertible {
    public var code: UInt16
    public var jt: UInt8
    public var jf: UInt8
    public var k: UInt32

    public init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32 = 0) {
        self.code = code
        self.jt = jt
        self.jf = jf
        self.k = k
    }

    public static let size = 8
    /// BPF_MAXINSNS: the kernel refuses longer programs.
    public static let maximumCount = 4096

    // Opcode parts from <linux/bpf_common.h>.
    static let classLD: UInt16 = 0x00, classLDX: UInt16 = 0x01, classST: UInt16 = 0x02, classSTX: UInt16 = 0x03
    static let classALU: UInt16 = 0x04, classJMP: UInt16 = 0x05, classRET: UInt16 = 0x06, classMISC: UInt16 = 0x07
    static let sizeW: UInt16 = 0x00
    static let modeIMM: UInt16 = 0x00, modeABS: UInt16 = 0x20, modeMEM: UInt16 = 0x60, modeLEN: UInt16 = 0x80
    static let jumpA: UInt16 = 0x00, jumpEQ: UInt16 = 0x10, jumpGT: UInt16 = 0x20, jumpGE: UInt16 = 0x30, jumpSET: UInt16 = 0x40
    static let sourceK: UInt16 = 0x00, sourceX: UInt16 = 0x08
    static let retA: UInt16 = 0x10

    static func loadAbsolute(_ offset: UInt32) -> BPFInstruction {
        BPFInstruction(code: classLD | sizeW | modeABS, k: offset)
    }

    static func ret(_ value: UInt32) -> BPFInstruction {
        BPFInstruction(code: classRET | sourceK, k: value)
    }

    /// Reads instructions from raw bytes (a multiple of 8).
    public static func decode(_ bytes: [UInt8]) throws -> [BPFInstruction] {
        guard bytes.count % size == 0 else {
            throw SeccompError("decode BPF program", reason: "\(bytes.count) bytes is not a multiple of \(size)")
        }
        return bytes.withUnsafeBytes { raw in
            stride(from: 0, to: raw.count, by: size).map { offset in
                BPFInstruction(
                    code: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self),
                    jt: raw[offset + 2],
                    jf: raw[offset + 3],
                    k: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                )
            }
        }
    }

    public static func encode(_ instructions: [BPFInstruction]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(instructions.count * size)
        for instruction in instructions {
            withUnsafeBytes(of: instruction.code) { bytes.append(contentsOf: $0) }
            bytes.append(instruction.jt)
            bytes.append(instruction.jf)
            withUnsafeBytes(of: instruction.k) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    public var description: String {
        let hex = { (value: UInt32) in "0x" + String(value, radix: 16) }
        return "{ \(hex(UInt32(code))), \(jt), \(jf), \(hex(k)) }"
    }
}
