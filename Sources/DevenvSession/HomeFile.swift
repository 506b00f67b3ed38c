import DevenvRuntime

/// A host file, directory or socket bound (read-only unless writable) at the same place below the container
/// user's home as below the host user's (a project's `[shell] dotfiles`). The container home
/// is known only when the spec is made (`-u` and the image's accounts decide it), so the
/// destination is relative.
public struct HomeFile: Hashable, Sendable {
    /// Absolute host path.
    public var source: String
    /// Below the home, normalized (no `..`, `.` or empty components).
    public var relativePath: String
    /// Bound read-write (`writable = true`); read-only by default.
    public var writable: Bool

    public init(source: String, relativePath: String, writable: Bool = false) {
        self.source = source
        self.relativePath = relativePath
        self.writable = writable
    }

    func mount(home: String) -> BindMount {
        BindMount(source: source, destination: (home.hasSuffix("/") ? home : home + "/") + relativePath, readOnly: !writable)
    }
}
