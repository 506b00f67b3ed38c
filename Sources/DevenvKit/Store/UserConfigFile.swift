import DevenvManifest
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the user's `config.toml` lives and reading it: `$XDG_CONFIG_HOME/devenv/config.toml`,
/// else `~/.config/devenv/config.toml`. No file means the defaults.
public enum UserConfigFile {
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") { return "\(config)/devenv/config.toml" }
        guard let home = try? HostPath.home(environment: environment) else { return nil }
        return "\(home)/.config/devenv/config.toml"
    }

    /// - Throws: `ManifestError` (path:line:column) for a mistake in the file, or a system
    ///   error when it exists but cannot be read (a directory, a FIFO, too large).
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> UserConfig {
        guard let path = path(environment: environment),
              let bytes = try FileDescriptor.readRegularFileIfPresent(path, limit: 1 << 20) else { return UserConfig() }
        return try UserConfig.parse(bytes, path: path)
    }
}
