import DevenvRuntime

/// A host file, directory or socket bound read-only at the same place below the container
/// user's home as below the host user's (a project's `[shell] dotfiles`). The container home
/// is known only when the spec is made (`-u` and the image's accounts decide it), so the
/// destination is relative.
public struct HomeFile: Hashable, Sendable {
    /// Absolute host path.
    public var source: String
    /// Below the home, normalized (no `..`, `.` or empty components).
    public var relativePath: String

    public init(source: String, relativePath: String) {
        self.source = source
        self.relativePath = relativePath
    }

    func mount(home: String) -> BindMount {
        BindMount(source: source, destination: (home.hasSuffix("/") ? home : home + "/") + relativePath, readOnly: true)
    }
}
