import DevenvManifest
import DevenvRuntime
import DevenvSystem

extension Project {
    /// `[limits]` over the defaults. The runtime parses the values; a bad one is a manifest
    /// error at its location, like any other (exit 65).
    public func limits() throws -> ResourceLimits {
        let written = manifest.limits
        var limits = ResourceLimits.default
        var diagnostics: [Diagnostic] = []
        let entries: [(Located<String>?, String, (ResourceLimits, String) throws -> ResourceLimits)] = [
            (written.memory, "memory", { try $0.overriding(memory: $1) }),
            (written.pids, "pids", { try $0.overriding(pids: $1) }),
            (written.cpus, "cpus", { try $0.overriding(cpus: $1) }),
            (written.shmSize, "shm-size", { try $0.overriding(shmSize: $1) }),
        ]
        for (value, key, apply) in entries {
            guard let value else { continue }
            do {
                limits = try apply(limits, value.value)
            } catch {
                diagnostics.append(Diagnostic("[limits] \(key): \(error)", at: value.location, width: value.width))
            }
        }
        guard diagnostics.isEmpty else {
            var error = ManifestError(path: displayPath, diagnostics: diagnostics)
            if let source = try? FileDescriptor.readRegularFile(manifestPath, limit: Manifest.maxFileSize) { error.attachSource(source) }
            throw error
        }
        return limits
    }
}
