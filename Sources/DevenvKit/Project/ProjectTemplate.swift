import DevenvOCI
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A starting `.devenv/devenv.toml` for one stack. The sources are `templates/NAME/devenv.toml`
/// in the repository, embedded into the binary by scripts/embed-templates.sh so `devenv init`
/// works wherever the binary is installed.
public struct ProjectTemplate: Sendable, Equatable {
    public static let defaultName = "debian"

    public let name: String
    public let manifest: String

    /// The manifest's first comment line, which every template opens with.
    public var summary: String {
        let first = manifest.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        return first.hasPrefix("# ") ? String(first.dropFirst(2)) : first
    }

    /// Every template, the default first.
    public static var all: [ProjectTemplate] {
        embedded.map { ProjectTemplate(name: $0.name, manifest: $0.manifest) }
            .sorted { ($0.name != defaultName ? 1 : 0, $0.name) < ($1.name != defaultName ? 1 : 0, $1.name) }
    }

    public static func named(_ name: String) -> ProjectTemplate? {
        all.first { $0.name == name }
    }
}

/// `devenv init`: writes `.devenv/devenv.toml` from a template, and nothing else.
public enum ProjectInitializer {
    /// Creates `DIRECTORY/.devenv/devenv.toml` and returns its path. An existing manifest is
    /// replaced only with `force`; a `.devenv` that is not a plain directory is refused, so
    /// the file cannot land somewhere a symlink points.
    public static func initialize(directory: String, template: ProjectTemplate, force: Bool) throws -> String {
        let devenv = "\(directory)/.devenv"
        let path = "\(devenv)/devenv.toml"
        var info = stat()
        if lstat(devenv, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw KitError.notADirectory(path: devenv, purpose: "devenv init writes .devenv/devenv.toml into a directory")
            }
        } else if errno == ENOENT {
            guard mkdir(devenv, 0o755) == 0 else { throw SystemError.last("mkdir", path: devenv) }
        } else {
            throw SystemError.last("lstat", path: devenv)
        }
        if lstat(path, &info) == 0 && !force {
            throw KitError.wouldOverwrite(path: path, hint: "`devenv init --force` replaces it")
        }
        try AtomicFile.write(Data(template.manifest.utf8), to: path, mode: 0o644)
        return path
    }
}
