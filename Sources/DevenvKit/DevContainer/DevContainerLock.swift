import DevenvSystem
import Foundation

/// `devcontainer-lock.json` next to devcontainer.json, in the devcontainers/cli format, so
/// that devenv and the reference implementation install the same feature versions:
/// `{"features": {"<reference as written>": {"version", "resolved", "integrity"}}}`.
public struct DevContainerLock: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        /// The feature's own `version`.
        public var version: String
        /// `REGISTRY/REPO@sha256:…`: the manifest the reference resolved to (an archive: its URL).
        public var resolved: String
        /// The manifest's digest (an archive's own).
        public var integrity: String

        public init(version: String, resolved: String, integrity: String) {
            self.version = version
            self.resolved = resolved
            self.integrity = integrity
        }
    }

    public var features: [String: Entry]

    public init(features: [String: Entry] = [:]) { self.features = features }

    /// The lock beside a devcontainer.json at `configPath`: `.devcontainer-lock.json` for a
    /// `.devcontainer.json`, else `devcontainer-lock.json` in the same directory.
    public static func path(forConfig configPath: String) -> String {
        let directory = (configPath as NSString).deletingLastPathComponent
        let name = (configPath as NSString).lastPathComponent.hasPrefix(".") ? ".devcontainer-lock.json" : "devcontainer-lock.json"
        return "\(directory)/\(name)"
    }

    /// nil when there is none; an unreadable one is an error naming the file.
    public static func read(_ path: String) throws -> DevContainerLock? {
        guard let bytes = try FileDescriptor.readRegularFileIfPresent(path, limit: 4 << 20, operation: "read the devcontainer lock") else { return nil }
        do {
            return try JSONDecoder().decode(DevContainerLock.self, from: Data(bytes))
        } catch {
            throw KitError.invalidLockFile(path: path, line: nil, problem: "not a devcontainer-lock.json: \(error)")
        }
    }

    /// As the reference implementation writes it: sorted keys, two-space indentation.
    public func write(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        try AtomicFile.write(data, to: path)
    }
}
