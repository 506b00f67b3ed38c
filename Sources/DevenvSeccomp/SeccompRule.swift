/// One comparison of a syscall argument, as libseccomp's `struct scmp_arg_cmp`.
public struct SeccompCondition: Hashable, Sendable, CustomStringConvertible {
    public enum Comparison: Hashable, Sendable {
        case notEqual, lessThan, lessOrEqual, equal, greaterOrEqual, greaterThan
        case maskedEqual(mask: UInt64)
    }

    public var argument: UInt32
    public var comparison: Comparison
    public var value: UInt64

    public init(argument: UInt32, _ comparison: Comparison, _ value: UInt64) {
        self.argument = argument
        self.comparison = comparison
        self.value = value
    }

    /// libseccomp compares all 64 bits on 64-bit ABIs.
    public func matches(_ argumentValue: UInt64) -> Bool {
        switch comparison {
        case .notEqual: return argumentValue != value
        case .lessThan: return argumentValue < value
        case .lessOrEqual: return argumentValue <= value
        case .equal: return argumentValue == value
        case .greaterOrEqual: return argumentValue >= value
        case .greaterThan: return argumentValue > value
        case .maskedEqual(let mask): return argumentValue & mask == value
        }
    }

    /// Conditions, one per rule, that together match exactly the values of a 32-bit argument
    /// in `lower...UInt32.max` whose upper 32 bits are zero.
    ///
    /// Why: the kernel truncates `int` arguments, so a 64-bit `arg > 40` also lets through
    /// `0x1_0000_0028`, which the kernel reads as 40. libseccomp allows one comparison per
    /// argument per rule, so the range is split into aligned blocks, each a masked-equal
    /// test on the whole 64 bits (which pins the upper half to zero).
    public static func uint32Range(argument: UInt32, from lower: UInt32) -> [SeccompCondition] {
        var conditions: [SeccompCondition] = []
        var start = UInt64(lower)
        let end = UInt64(UInt32.max) + 1
        while start < end {
            var size: UInt64 = start == 0 ? end : start & (~start &+ 1)
            while start + size > end { size >>= 1 }
            conditions.append(SeccompCondition(argument: argument, .maskedEqual(mask: ~(size - 1)), start))
            start += size
        }
        return conditions
    }

    public var description: String {
        let hex = "0x" + String(value, radix: 16)
        switch comparison {
        case .notEqual: return "arg\(argument) != \(hex)"
        case .lessThan: return "arg\(argument) < \(hex)"
        case .lessOrEqual: return "arg\(argument) <= \(hex)"
        case .equal: return "arg\(argument) == \(hex)"
        case .greaterOrEqual: return "arg\(argument) >= \(hex)"
        case .greaterThan: return "arg\(argument) > \(hex)"
        case .maskedEqual(let mask): return "arg\(argument) & 0x\(String(mask, radix: 16)) == \(hex)"
        }
    }
}

/// A syscall, the action taken for it, and the conditions (all must hold) under which the
/// rule applies. Several rules for one syscall are alternatives.
public struct SeccompRule: Hashable, Sendable, CustomStringConvertible {
    public var syscall: String
    public var action: SeccompAction
    public var conditions: [SeccompCondition]

    public init(_ syscall: String, _ action: SeccompAction, conditions: [SeccompCondition] = []) {
        self.syscall = syscall
        self.action = action
        self.conditions = conditions
    }

    public func matches(arguments: [UInt64]) -> Bool {
        conditions.allSatisfy { condition in
            let index = Int(condition.argument)
            return condition.matches(index < arguments.count ? arguments[index] : 0)
        }
    }

    public var description: String {
        let test = conditions.isEmpty ? "" : " if " + conditions.map(\.description).joined(separator: " && ")
        return "\(syscall): \(action)\(test)"
    }
}
