import DevenvRuntime

/// `-v/--volume SRC:DST[:ro|:rw]`, docker's short form: a host path bound at a container
/// path. SRC is absolute, `~`/`~/…` (the home directory) or relative to `base` (the project
/// directory, or the mounted directory of an `--image` session); DST is absolute. Where DST
/// may go is SpecValidator's rule (not `/`, not /proc, /sys, /dev), checked with the spec.
public enum VolumeOption {
    public static func mount(_ text: String, base: String, home: String?) throws -> BindMount {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && (parts[2] == "ro" || parts[2] == "rw")), !parts[0].isEmpty, !parts[1].isEmpty else {
            throw RuntimeError.invalid("-v \(ContainerPath.quote(text)): expected SRC:DST, SRC:DST:ro or SRC:DST:rw")
        }
        guard parts[1].hasPrefix("/") else {
            throw RuntimeError.invalid("-v \(ContainerPath.quote(text)): the container path \(ContainerPath.quote(parts[1])) must be absolute")
        }
        return BindMount(source: try source(parts[0], base: base, home: home, option: text), destination: parts[1], readOnly: parts.count == 3 && parts[2] == "ro")
    }

    static func source(_ path: String, base: String, home: String?, option: String) throws -> String {
        if path.hasPrefix("/") { return path }
        if path == "~" || path.hasPrefix("~/") {
            guard let home else { throw RuntimeError.invalid("-v \(ContainerPath.quote(option)): no home directory is known for '~'") }
            return path == "~" ? home : home + path.dropFirst()
        }
        if path.hasPrefix("~") { throw RuntimeError.invalid("-v \(ContainerPath.quote(option)): '~user' is not supported") }
        return base + "/" + path
    }
}
