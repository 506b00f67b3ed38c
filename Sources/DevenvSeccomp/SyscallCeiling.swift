/// The highest syscall number a policy names for one ABI, as the filter sees numbers
/// (x32 ones include `SeccompArchitecture.x32SyscallBit`).
public struct SyscallCeiling: Hashable, Sendable, CustomStringConvertible {
    public var architecture: SeccompArchitecture
    public var highest: UInt32
    /// For ABIs with a private range (x32, arm): the highest named number below it. Numbers
    /// between this and the private range are generic syscalls newer than the policy.
    public var highestGeneric: UInt32?

    public init(architecture: SeccompArchitecture, highest: UInt32, highestGeneric: UInt32? = nil) {
        self.architecture = architecture
        self.highest = highest
        self.highestGeneric = highestGeneric
    }

    /// The ceiling for `numbers`, the ABI's numbers of the named syscalls; nil if empty.
    public init?(architecture: SeccompArchitecture, numbers: [UInt32]) {
        guard let highest = numbers.max() else { return nil }
        let generic = architecture.privateSyscallBase.flatMap { base in numbers.filter { $0 < base }.max() }
        self.init(architecture: architecture, highest: highest, highestGeneric: generic)
    }

    /// Whether a number counts as newer than the policy.
    public func isNewer(_ number: UInt32) -> Bool {
        if number > highest { return true }
        guard let base = architecture.privateSyscallBase, let highestGeneric else { return false }
        return number > highestGeneric && number < base
    }

    public var description: String {
        let format = { (number: UInt32) in number < 0x10000 ? "\(number)" : "0x" + String(number, radix: 16) }
        var text = "\(architecture): nr > \(format(highest))"
        if let base = architecture.privateSyscallBase, let highestGeneric {
            text += " or \(format(highestGeneric)) < nr < \(format(base))"
        }
        return text
    }
}
