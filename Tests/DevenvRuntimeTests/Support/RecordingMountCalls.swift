@testable import DevenvRuntime
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// `MountCalls` that mount nothing: each call is recorded, with every `/proc/self/fd/N`
/// argument resolved to the host path the descriptor names at that moment, so a test sees
/// exactly where the executor's in-root resolution led. `fail` makes one call fail with an
/// errno, the way the kernel would.
final class RecordingMountCalls: MountCalls {
    enum Call: Hashable, CustomStringConvertible {
        case mount(source: String?, target: String, type: String?, flags: MountFlags, data: String?)
        case restrict(target: String, flags: MountFlags)
        case overlay(lower: [String], upper: String, work: String, userXattr: Bool, target: String, flags: MountFlags)
        case bindIdmapped(source: String, target: String, flags: MountFlags, userNamespace: Int32)
        case pivotRoot(String)

        var description: String {
            switch self {
            case let .mount(source, target, type, flags, data):
                return "mount \(source ?? "-") \(target) \(type ?? "-") [\(flags.optionNames)] \(data ?? "-")"
            case let .restrict(target, flags): return "restrict \(target) [\(flags.optionNames)]"
            case let .overlay(lower, upper, work, userXattr, target, flags):
                return "overlay \(lower) \(upper) \(work) \(userXattr) \(target) [\(flags.optionNames)]"
            case let .bindIdmapped(source, target, flags, userNamespace): return "idmapped \(source) \(target) [\(flags.optionNames)] \(userNamespace)"
            case let .pivotRoot(path): return "pivot_root \(path)"
            }
        }
    }

    private(set) var calls: [Call] = []
    var fail: (Call) -> Int32? = { _ in nil }

    private func record(_ call: Call, describe: String) throws {
        calls.append(call)
        if let code = fail(call) { throw SystemError(describe, errno: code) }
    }

    /// The host path behind a descriptor path, else the path itself.
    static func resolve(_ path: String) -> String {
        guard path.hasPrefix("/proc/self/fd/") else { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return path }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func resolve(_ descriptor: Int32) -> String { resolve(descriptorPath(descriptor)) }

    func mount(_ source: String?, on target: String, type: String?, flags: MountFlags, data: String?, describe: String) throws {
        try record(.mount(source: source.map(Self.resolve), target: Self.resolve(target), type: type, flags: flags, data: data), describe: describe)
    }

    func restrict(_ descriptor: Int32, _ flags: MountFlags, describe: String) throws {
        try record(.restrict(target: Self.resolve(descriptor), flags: flags), describe: describe)
    }

    func mountOverlay(_ overlay: OverlayMount, on target: String, flags: MountFlags) throws {
        try record(.overlay(lower: overlay.lowerDirs, upper: overlay.upperDir, work: overlay.workDir, userXattr: overlay.userXattr, target: target, flags: flags),
                   describe: "mount overlay on \(target)")
    }

    func bindIdmapped(_ source: Int32, onto target: Int32, flags: MountFlags, userNamespace: Int32, describe: String) throws {
        try record(.bindIdmapped(source: Self.resolve(source), target: Self.resolve(target), flags: flags, userNamespace: userNamespace), describe: describe)
    }

    func pivotRoot(into root: RootDirectory) throws {
        try record(.pivotRoot(Self.resolve(root.raw)), describe: "pivot_root")
    }
}
