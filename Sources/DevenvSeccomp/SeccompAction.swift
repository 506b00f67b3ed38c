/// What a seccomp filter returns for a syscall. The raw values are the kernel's
/// `SECCOMP_RET_*` encoding, which libseccomp's `SCMP_ACT_*` shares.
public enum SeccompAction: Hashable, Sendable, CustomStringConvertible {
    case allow
    case errno(Int32)
    case killThread
    case killProcess
    case trap
    case trace(UInt16)
    case log
    case userNotify

    static let actionMask: UInt32 = 0xffff_0000
    static let dataMask: UInt32 = 0x0000_ffff

    public var rawValue: UInt32 {
        switch self {
        case .killProcess: return 0x8000_0000
        case .killThread: return 0x0000_0000
        case .trap: return 0x0003_0000
        case .errno(let code): return 0x0005_0000 | (UInt32(bitPattern: code) & Self.dataMask)
        case .userNotify: return 0x7fc0_0000
        case .trace(let message): return 0x7ff0_0000 | UInt32(message)
        case .log: return 0x7ffc_0000
        case .allow: return 0x7fff_0000
        }
    }

    /// Decodes a filter's return value the way the kernel does (unknown actions kill).
    public init(rawValue: UInt32) {
        let data = rawValue & Self.dataMask
        switch rawValue & Self.actionMask {
        case 0x8000_0000: self = .killProcess
        case 0x0003_0000: self = .trap
        case 0x0005_0000: self = .errno(Int32(data))
        case 0x7fc0_0000: self = .userNotify
        case 0x7ff0_0000: self = .trace(UInt16(data))
        case 0x7ffc_0000: self = .log
        case 0x7fff_0000: self = .allow
        case 0x0000_0000: self = .killThread
        default: self = .killProcess
        }
    }

    public var description: String {
        switch self {
        case .allow: return "ALLOW"
        case .errno(let code): return "ERRNO(\(code))"
        case .killThread: return "KILL"
        case .killProcess: return "KILL_PROCESS"
        case .trap: return "TRAP"
        case .trace(let message): return "TRACE(\(message))"
        case .log: return "LOG"
        case .userNotify: return "NOTIFY"
        }
    }
}
