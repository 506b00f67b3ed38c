import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A Container Device Interface spec (github.com/cncf-tags/container-device-interface,
/// SPEC.md): a vendor's `kind` (`vendor.com/class`), its named devices, and the container
/// edits each needs. Read from JSON here; YAML is turned into the same JSON by a reader the
/// caller passes (`CDIRegistry.yaml`: the runtime itself carries no YAML parser). Pure:
/// `CDIRegistry` finds the files.
public struct CDISpec: Codable, Equatable, Sendable {
    public var cdiVersion: String
    public var kind: String
    public var devices: [Device]
    /// Edits every device of this spec needs.
    public var containerEdits: Edits?

    public struct Device: Codable, Equatable, Sendable {
        public var name: String
        public var containerEdits: Edits
    }

    public struct Edits: Codable, Equatable, Sendable {
        public var env: [String]?
        public var deviceNodes: [DeviceNode]?
        public var mounts: [Mount]?
        public var hooks: [Hook]?
    }

    public struct DeviceNode: Codable, Equatable, Sendable {
        /// The path in the container; the host's too unless `hostPath` is given.
        public var path: String
        public var hostPath: String?
        /// Letters of `rwm` (default all).
        public var permissions: String?
    }

    public struct Mount: Codable, Equatable, Sendable {
        public var hostPath: String
        public var containerPath: String
        public var options: [String]?
    }

    public struct Hook: Codable, Equatable, Sendable {
        public var hookName: String
        public var path: String
    }

    /// What the container gets for one device, or every device (`all`).
    public struct Resolved: Equatable, Sendable {
        public var devices: [DeviceBind] = []
        public var mounts: [BindMount] = []
        public var environment: [String] = []
    }

    /// `format`: how the file was written, for the message (YAML arrives here as JSON).
    public static func decode(_ bytes: [UInt8], path: String, format: String = "JSON") throws -> CDISpec {
        let spec: CDISpec
        do {
            spec = try JSONDecoder().decode(CDISpec.self, from: Data(bytes))
        } catch {
            throw RuntimeError.invalid("CDI spec \(ContainerPath.quote(path)): not a CDI spec in \(format) (\(error))")
        }
        let parts = spec.kind.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw RuntimeError.invalid("CDI spec \(ContainerPath.quote(path)): kind \(ContainerPath.quote(spec.kind)) is not vendor.com/class")
        }
        return spec
    }

    /// The edits for `name` (a device's name, or `all`): the spec's own, then the device's.
    /// Hooks are refused: devenv runs no host programs on a container's behalf (an NVIDIA
    /// spec's `nvidia-cdi-hook` would run as the invoking user with the container's root).
    public func resolve(_ name: String) throws -> Resolved {
        let chosen = name == "all" ? devices : devices.filter { $0.name == name }
        guard !chosen.isEmpty else {
            throw RuntimeError.invalid("CDI device \(ContainerPath.quote("\(kind)=\(name)")): no such device (have: \(devices.map(\.name).joined(separator: ", ")))")
        }
        var resolved = Resolved()
        for edits in [containerEdits].compactMap({ $0 }) + chosen.map(\.containerEdits) {
            if let hook = edits.hooks?.first {
                throw RuntimeError.invalid("CDI device \(ContainerPath.quote("\(kind)=\(name)")): its \(hook.hookName) hook \(ContainerPath.quote(hook.path)) would run a host program; devenv runs no CDI hooks")
            }
            resolved.environment += edits.env ?? []
            for node in edits.deviceNodes ?? [] {
                if let problem = DeviceBind.permissionsProblem(node.permissions ?? "rwm") {
                    throw RuntimeError.invalid("CDI device \(ContainerPath.quote("\(kind)=\(name)")): node \(ContainerPath.quote(node.path)): \(problem)")
                }
                resolved.devices.append(DeviceBind(source: node.hostPath ?? node.path, destination: node.path))
            }
            resolved.mounts += (edits.mounts ?? []).map { mount in
                BindMount(source: mount.hostPath, destination: mount.containerPath, readOnly: mount.options?.contains("ro") ?? false)
            }
        }
        return resolved
    }
}

/// The CDI specs on this host: `*.json`, `*.yaml` and `*.yml` in /etc/cdi, then /var/run/cdi
/// (a later file's kind replaces an earlier one's, as the CDI library's priority order).
public struct CDIRegistry: Sendable {
    public static let defaultDirectories = ["/etc/cdi", "/var/run/cdi"]
    /// A YAML spec's bytes (and path, for messages) as a checked spec.
    public typealias YAMLReader = @Sendable ([UInt8], String) throws -> CDISpec

    public var specs: [String: (spec: CDISpec, path: String)] = [:]
    /// Files that could not be used, with the reason (broken JSON or YAML, YAML without a reader).
    public var problems: [String] = []

    /// `yaml`: reads YAML specs (DevenvKit's, `CDIRegistry.host()`); without one they are
    /// reported in `problems`.
    public init(directories: [String] = CDIRegistry.defaultDirectories, yaml: YAMLReader? = nil) {
        for directory in directories {
            for name in Self.names(in: directory).sorted() where !name.hasPrefix(".") {
                let path = "\(directory)/\(name)"
                let isYAML = name.hasSuffix(".yaml") || name.hasSuffix(".yml")
                guard isYAML || name.hasSuffix(".json") else { continue }
                if isYAML && yaml == nil {
                    problems.append("\(path): YAML CDI specs are read by the full CLI only")
                    continue
                }
                do {
                    let bytes = try FileDescriptor.readRegularFile(path, limit: 4 << 20, operation: "read CDI spec")
                    let spec = try isYAML ? yaml!(bytes, path) : CDISpec.decode(bytes, path: path)
                    specs[spec.kind] = (spec, path)
                } catch {
                    problems.append("\(error)")
                }
            }
        }
    }

    /// `vendor.com/class=name` resolved; an unknown kind names the directories searched.
    public func resolve(_ qualified: String) throws -> CDISpec.Resolved {
        guard let equals = qualified.firstIndex(of: "=") else { throw RuntimeError.invalid("CDI device \(ContainerPath.quote(qualified)): expected vendor.com/class=name") }
        let kind = String(qualified[..<equals]), name = String(qualified[qualified.index(after: equals)...])
        guard let found = specs[kind] else {
            throw RuntimeError.invalid("CDI device \(ContainerPath.quote(qualified)): no CDI spec for \(ContainerPath.quote(kind)) in \(Self.defaultDirectories.joined(separator: " or "))")
        }
        return try found.spec.resolve(name)
    }

    static func names(in directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            names.append(withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
        }
        return names
    }

    /// Every device name, `kind=name`, for `doctor`.
    public var deviceNames: [String] {
        specs.keys.sorted().flatMap { kind in specs[kind]!.spec.devices.map { "\(kind)=\($0.name)" } }
    }
}
