import DevenvSeccomp
import Foundation

extension SeccompFilter {
    private static let cache = NSLock()
    nonisolated(unsafe) private static var compiled: [UInt64: SeccompFilter] = [:]

    /// Docker's default seccomp policy for a process whose bounding set is `capabilities`,
    /// compiled with libseccomp (DevenvSeccomp) here in the parent; the container's init only
    /// loads the bytes, last, right before execve. Compiled once per capability set and process.
    public static func dockerDefault(capabilities: CapabilitySet = .dockerDefault) throws -> SeccompFilter {
        cache.lock()
        defer { cache.unlock() }
        if let filter = compiled[capabilities.rawValue] { return filter }
        do {
            let profile = try SeccompProfile.dockerDefault(capabilities: DevenvSeccomp.CapabilitySet(bitmask: capabilities.rawValue))
            let filter = SeccompFilter(bytes: try SeccompCompiler.compile(profile).bytes)
            compiled[capabilities.rawValue] = filter
            return filter
        } catch {
            throw RuntimeError(.setup, "compile seccomp filter: \(error)")
        }
    }
}
