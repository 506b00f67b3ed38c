import CSeccomp
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Owns one libseccomp filter context. Builds and exports only: nothing here loads a filter
/// into the calling process.
final class SeccompFilterContext {
    private let handle: scmp_filter_ctx

    init(defaultAction: SeccompAction) throws {
        guard let handle = seccomp_init(defaultAction.rawValue) else {
            throw SeccompError("seccomp_init", subject: defaultAction.description, reason: "libseccomp refused the default action")
        }
        self.handle = handle
    }

    deinit { seccomp_release(handle) }

    func setAttribute(_ attribute: scmp_filter_attr, _ value: UInt32, name: String) throws {
        let result = seccomp_attr_set(handle, attribute, value)
        guard result == 0 else { throw SeccompError.libseccomp("seccomp_attr_set", subject: name, result: result) }
    }

    /// Makes the filter cover exactly `architectures` (seccomp_init adds the native one).
    func setArchitectures(_ architectures: [SeccompArchitecture]) throws {
        for architecture in architectures where seccomp_arch_exist(handle, architecture.rawValue) != 0 {
            let result = seccomp_arch_add(handle, architecture.rawValue)
            guard result == 0 else { throw SeccompError.libseccomp("seccomp_arch_add", subject: "\(architecture)", result: result) }
        }
        let native = seccomp_arch_native()
        if !architectures.contains(where: { $0.rawValue == native }) {
            let result = seccomp_arch_remove(handle, native)
            guard result == 0 else { throw SeccompError.libseccomp("seccomp_arch_remove", subject: "native", result: result) }
        }
    }

    /// Adds a rule; returns false when libseccomp does not know the syscall (runc skips
    /// those too: the kernel it targets may lack them).
    func add(_ rule: SeccompRule) throws -> Bool {
        let number = seccomp_syscall_resolve_name(rule.syscall)
        guard number != __NR_SCMP_ERROR else { return false }
        var comparisons = rule.conditions.map(Self.comparison)
        let result = seccomp_rule_add_array(handle, rule.action.rawValue, number, UInt32(comparisons.count), &comparisons)
        guard result == 0 else { throw SeccompError.libseccomp("seccomp_rule_add_array", subject: rule.syscall, result: result) }
        return true
    }

    func exportBPF() throws -> [UInt8] {
        try export("seccomp_export_bpf") { seccomp_export_bpf(handle, $0) }
    }

    func exportPFC() throws -> String {
        String(decoding: try export("seccomp_export_pfc") { seccomp_export_pfc(handle, $0) }, as: UTF8.self)
    }

    /// The ABI's number for a syscall name; nil if it has none. libseccomp answers some
    /// names with a negative pseudo-number although the ABI also has a direct call (i386
    /// `socket` is 359 besides socketcall); those come from a scan of its number table.
    static func number(of name: String, on architecture: SeccompArchitecture) -> UInt32? {
        let number = seccomp_syscall_resolve_name_arch(architecture.rawValue, name)
        if number >= 0 { return UInt32(number) }
        return scannedNumbers[architecture]?[name]
    }

    static func name(of number: Int32, on architecture: SeccompArchitecture) -> String? {
        guard let name = seccomp_syscall_resolve_num_arch(architecture.rawValue, number) else { return nil }
        defer { free(name) }
        return String(cString: name)
    }

    private static let scannedNumbers: [SeccompArchitecture: [String: UInt32]] = {
        var tables: [SeccompArchitecture: [String: UInt32]] = [:]
        for architecture in SeccompArchitecture.allCases {
            let base: UInt32 = architecture == .x32 ? SeccompArchitecture.x32SyscallBit : 0
            var numbers = Array(base..<base + 1024)
            if let privateBase = architecture.privateSyscallBase, privateBase >= base + 1024 {
                numbers += Array(privateBase..<privateBase + 64)
            }
            var table: [String: UInt32] = [:]
            for number in numbers {
                if let name = name(of: Int32(bitPattern: number), on: architecture), table[name] == nil { table[name] = number }
            }
            tables[architecture] = table
        }
        return tables
    }()

    private static func comparison(_ condition: SeccompCondition) -> scmp_arg_cmp {
        switch condition.comparison {
        case .maskedEqual(let mask):
            return scmp_arg_cmp(arg: condition.argument, op: SCMP_CMP_MASKED_EQ, datum_a: mask, datum_b: condition.value)
        case .notEqual: return plain(condition, SCMP_CMP_NE)
        case .lessThan: return plain(condition, SCMP_CMP_LT)
        case .lessOrEqual: return plain(condition, SCMP_CMP_LE)
        case .equal: return plain(condition, SCMP_CMP_EQ)
        case .greaterOrEqual: return plain(condition, SCMP_CMP_GE)
        case .greaterThan: return plain(condition, SCMP_CMP_GT)
        }
    }

    private static func plain(_ condition: SeccompCondition, _ op: scmp_compare) -> scmp_arg_cmp {
        scmp_arg_cmp(arg: condition.argument, op: op, datum_a: condition.value, datum_b: 0)
    }

    /// libseccomp 2.5 exports only to a file descriptor; a memfd keeps it off the disk.
    private func export(_ operation: String, _ write: (Int32) -> Int32) throws -> [UInt8] {
        do {
            let file = try FileDescriptor.memory(name: "devenv-seccomp")
            let result = write(file.raw)
            guard result == 0 else { throw SeccompError.libseccomp(operation, result: result) }
            return try file.readAllFromStart()
        } catch let error as SystemError {
            throw SeccompError(operation, subject: error.operation, errno: error.errno)
        }
    }
}
