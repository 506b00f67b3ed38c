/// What the kernel hands a seccomp filter: `struct seccomp_data`.
public struct SeccompData: Hashable, Sendable {
    public var nr: Int32
    public var arch: UInt32
    public var instructionPointer: UInt64
    public var arguments: [UInt64]

    public init(nr: Int32, arch: UInt32, instructionPointer: UInt64 = 0, arguments: [UInt64] = []) {
        self.nr = nr
        self.arch = arch
        self.instructionPointer = instructionPointer
        self.arguments = arguments
    }

    /// A call as the given ABI makes it; `number` is the ABI's own (x32 numbers include
    /// `SeccompArchitecture.x32SyscallBit`).
    public init(_ architecture: SeccompArchitecture, number: Int32, arguments: [UInt64] = []) {
        self.init(nr: number, arch: architecture.auditArch, arguments: arguments)
    }

    static let size: UInt32 = 64

    /// The 32-bit word at `offset`, in little-endian layout (x86_64, aarch64).
    func word(at offset: UInt32) -> UInt32 {
        switch offset {
        case 0: return UInt32(bitPattern: nr)
        case 4: return arch
        case 8: return UInt32(truncatingIfNeeded: instructionPointer)
        case 12: return UInt32(truncatingIfNeeded: instructionPointer >> 32)
        default:
            let index = Int((offset - 16) / 8)
            let value = index < arguments.count ? arguments[index] : 0
            return offset % 8 == 0 ? UInt32(truncatingIfNeeded: value) : UInt32(truncatingIfNeeded: value >> 32)
        }
    }
}

/// Runs a seccomp BPF program the way the kernel does, so a compiled filter can be checked
/// (and dumped as verdicts) without loading it. Accepts exactly the instructions
/// `seccomp_check_filter` accepts.
public enum SeccompSimulator {
    public struct Outcome: Hashable, Sendable {
        /// The program's raw return value.
        public var value: UInt32
        /// Instructions executed: the filter's cost for this call.
        public var steps: Int

        public var action: SeccompAction { SeccompAction(rawValue: value) }
    }

    /// The static checks the kernel applies before loading: length, known opcodes, data
    /// offsets, memory slots, jump targets, and a return at the end.
    public static func validate(_ program: [BPFInstruction]) throws {
        guard !program.isEmpty, program.count <= BPFInstruction.maximumCount else {
            throw invalid("program has \(program.count) instructions (1...\(BPFInstruction.maximumCount) allowed)")
        }
        for (index, instruction) in program.enumerated() {
            try checkOperands(instruction, at: index, count: program.count)
        }
        guard program[program.count - 1].code & 0x07 == BPFInstruction.classRET else {
            throw invalid("the last instruction is not a return")
        }
    }

    public static func run(_ program: [BPFInstruction], on data: SeccompData) throws -> Outcome {
        try validate(program)
        var a: UInt32 = 0, x: UInt32 = 0
        var memory = [UInt32](repeating: 0, count: 16)
        var pc = 0, steps = 0
        while pc < program.count {
            let instruction = program[pc]
            let k = instruction.k
            steps += 1
            pc += 1
            switch instruction.code {
            case 0x20: a = data.word(at: k)                      // ld [k]
            case 0x80: a = SeccompData.size                      // ld len
            case 0x81: x = SeccompData.size                      // ldx len
            case 0x00: a = k                                     // ld #k
            case 0x01: x = k                                     // ldx #k
            case 0x60: a = memory[Int(k)]                        // ld M[k]
            case 0x61: x = memory[Int(k)]                        // ldx M[k]
            case 0x02: memory[Int(k)] = a                        // st M[k]
            case 0x03: memory[Int(k)] = x                        // stx M[k]
            case 0x07: x = a                                     // tax
            case 0x87: a = x                                     // txa
            case 0x06: return Outcome(value: k, steps: steps)
            case 0x16: return Outcome(value: a, steps: steps)
            case 0x05: pc += Int(k)                              // ja
            default:
                let classBits = instruction.code & 0x07
                let operand = instruction.code & BPFInstruction.sourceX != 0 ? x : k
                if classBits == BPFInstruction.classJMP {
                    pc += jump(instruction, a: a, operand: operand) ? Int(instruction.jt) : Int(instruction.jf)
                } else if let result = alu(instruction.code, a, operand) {
                    a = result
                } else {
                    // Division by a zero X: classic BPF ends the program with 0 (kill).
                    return Outcome(value: 0, steps: steps)
                }
            }
        }
        throw invalid("execution ran past the end")  // unreachable after validate
    }

    private static func jump(_ instruction: BPFInstruction, a: UInt32, operand: UInt32) -> Bool {
        switch instruction.code & 0xf0 {
        case BPFInstruction.jumpEQ: return a == operand
        case BPFInstruction.jumpGT: return a > operand
        case BPFInstruction.jumpGE: return a >= operand
        default: return a & operand != 0  // jset
        }
    }

    private static func alu(_ code: UInt16, _ a: UInt32, _ operand: UInt32) -> UInt32? {
        switch code & 0xf0 {
        case 0x00: return a &+ operand
        case 0x10: return a &- operand
        case 0x20: return a &* operand
        case 0x30: return operand == 0 ? nil : a / operand
        case 0x40: return a | operand
        case 0x50: return a & operand
        case 0x60: return operand >= 32 ? 0 : a << operand
        case 0x70: return operand >= 32 ? 0 : a >> operand
        case 0x80: return 0 &- a
        default: return a ^ operand  // 0xa0, the only other opcode validate lets through
        }
    }

    private static let plainOpcodes: Set<UInt16> = [0x20, 0x80, 0x81, 0x00, 0x01, 0x60, 0x61, 0x02, 0x03, 0x07, 0x87, 0x06, 0x16, 0x05]
    private static let aluOperations: Set<UInt16> = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0xa0]
    private static let jumpOperations: Set<UInt16> = [0x10, 0x20, 0x30, 0x40]

    private static func checkOperands(_ instruction: BPFInstruction, at index: Int, count: Int) throws {
        let code = instruction.code
        let classBits = code & 0x07
        let remaining = count - index - 1
        if code == 0x20, instruction.k % 4 != 0 || instruction.k >= SeccompData.size {
            throw invalid("instruction \(index) loads offset \(instruction.k) outside seccomp_data")
        }
        if [0x60, 0x61, 0x02, 0x03].contains(code), instruction.k >= 16 {
            throw invalid("instruction \(index) uses memory slot \(instruction.k)")
        }
        if code == 0x05 {
            guard Int(instruction.k) < remaining else { throw invalid("instruction \(index) jumps past the end") }
            return
        }
        if plainOpcodes.contains(code) { return }
        // Beyond the class, only the operation (0xf0) and source (0x08) bits may be set.
        let wellFormed = code & 0xff07 == classBits
        if classBits == BPFInstruction.classALU, wellFormed, aluOperations.contains(code & 0xf0), code != 0x8c {
            if code == 0x34, instruction.k == 0 { throw invalid("instruction \(index) divides by zero") }
            return
        }
        if classBits == BPFInstruction.classJMP, wellFormed, jumpOperations.contains(code & 0xf0) {
            guard Int(instruction.jt) < remaining, Int(instruction.jf) < remaining else {
                throw invalid("instruction \(index) jumps past the end")
            }
            return
        }
        throw invalid("instruction \(index) has opcode 0x\(String(code, radix: 16)), which seccomp does not accept")
    }

    private static func invalid(_ reason: String) -> SeccompError {
        SeccompError("check BPF program", reason: reason)
    }
}
