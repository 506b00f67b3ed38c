/// A syscall ABI a filter covers. Raw values are the kernel's AUDIT_ARCH_* constants, which
/// are also libseccomp's SCMP_ARCH_* tokens and what `seccomp_data.arch` holds.
///
/// Only the x86 and ARM families are modelled: devenv runs on x86_64 and aarch64, and
/// Docker's archMap pairs those with x86 + x32 and arm respectively.
public enum SeccompArchitecture: UInt32, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case x86_64 = 0xc000_003e
    case x86 = 0x4000_0003
    case x32 = 0x4000_003e
    case aarch64 = 0xc000_00b7
    case arm = 0x4000_0028

    /// The value the kernel puts in `seccomp_data.arch`. x32 shares x86_64's and sets
    /// `x32SyscallBit` in the syscall number instead.
    public var auditArch: UInt32 {
        self == .x32 ? SeccompArchitecture.x86_64.rawValue : rawValue
    }

    public static let x32SyscallBit: UInt32 = 0x4000_0000

    /// Where an ABI's private syscalls start (x32's own compat entries from 512, ARM's
    /// `__ARM_NR_*` from 0x0f0000), as numbers the filter sees. Below it lie the generic ones.
    public var privateSyscallBase: UInt32? {
        switch self {
        case .x32: return SeccompArchitecture.x32SyscallBit | 512
        case .arm: return 0x000f_0000
        case .x86_64, .x86, .aarch64: return nil
        }
    }

    /// The ABIs a native process can also enter through (Docker's `archMap`).
    public var subArchitectures: [SeccompArchitecture] {
        switch self {
        case .x86_64: return [.x86, .x32]
        case .aarch64: return [.arm]
        case .x86, .x32, .arm: return []
        }
    }

    /// The architecture devenv was built for; nil on one this module does not model.
    public static var native: SeccompArchitecture? {
        #if arch(x86_64)
        return .x86_64
        #elseif arch(arm64)
        return .aarch64
        #else
        return nil
        #endif
    }

    public var description: String {
        switch self {
        case .x86_64: return "x86_64"
        case .x86: return "x86"
        case .x32: return "x32"
        case .aarch64: return "aarch64"
        case .arm: return "arm"
        }
    }
}
