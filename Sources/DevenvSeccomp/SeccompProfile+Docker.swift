extension SeccompProfile {
    /// Docker's default policy as it applies to a process whose bounding set is
    /// `capabilities`, on the architecture devenv runs on: default EPERM, the allowlist, the
    /// argument rules, the capability-gated groups, and ENOSYS for syscalls newer than the
    /// policy.
    public static func dockerDefault(capabilities: CapabilitySet = .dockerDefault) throws -> SeccompProfile {
        guard let native = SeccompArchitecture.native else {
            throw SeccompError("build the default seccomp profile", reason: "unsupported CPU architecture")
        }
        return dockerDefault(capabilities: capabilities, architecture: native)
    }

    /// The same for an explicit native architecture; its sub-architectures (Docker's archMap)
    /// are filtered too.
    public static func dockerDefault(capabilities: CapabilitySet, architecture: SeccompArchitecture) -> SeccompProfile {
        var seen = Set<SeccompRule>()
        var rules: [SeccompRule] = []
        for entry in DockerDefaultPolicy.entries where entry.applies(to: capabilities, native: architecture) {
            for name in entry.names {
                let rule = SeccompRule(name, entry.action, conditions: entry.conditions)
                if seen.insert(rule).inserted { rules.append(rule) }
            }
        }
        return SeccompProfile(
            defaultAction: DockerDefaultPolicy.defaultAction,
            badArchitectureAction: .killProcess,
            architectures: [architecture] + architecture.subArchitectures,
            rules: rules,
            namedSyscalls: DockerDefaultPolicy.allNames,
            newerSyscallErrno: 38  // ENOSYS
        )
    }
}
