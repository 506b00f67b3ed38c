import DevenvOCI

/// An edit of the image's run configuration that leaves the filesystem alone (a
/// Dockerfile's LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, STOPSIGNAL and ENV). Values are
/// final: front ends expand variables before they get here, so nothing is expanded again.
public enum ConfigChange: Hashable, Sendable, Codable {
    /// Sets each variable to its value as given.
    case env([EnvironmentVariable])
    /// Adds or replaces labels (name = label key).
    case labels([EnvironmentVariable])
    /// nil clears it (an ENTRYPOINT without a CMD in the same stage drops the base's CMD).
    case entrypoint([String]?)
    case cmd([String]?)
    /// `80/tcp`, `53/udp`.
    case exposedPorts([String])
    case volumes([String])
    case stopSignal(String)

    public func apply(to config: inout ImageConfig.RunConfig) {
        switch self {
        case let .env(variables):
            var env = config.env ?? []
            for variable in variables {
                let entry = "\(variable.name)=\(variable.value)"
                if let index = env.firstIndex(where: { ConfigEditor.split($0).0 == variable.name }) {
                    env[index] = entry
                } else {
                    env.append(entry)
                }
            }
            config.env = env
        case let .labels(labels):
            var current = config.labels ?? [:]
            for label in labels { current[label.name] = label.value }
            config.labels = current
        case let .entrypoint(arguments):
            config.entrypoint = arguments
        case let .cmd(arguments):
            config.cmd = arguments
        case let .exposedPorts(ports):
            var current = config.exposedPorts ?? [:]
            for port in ports { current[port] = ImageConfig.EmptyObject() }
            config.exposedPorts = current
        case let .volumes(paths):
            var current = config.volumes ?? [:]
            for path in paths { current[path] = ImageConfig.EmptyObject() }
            config.volumes = current
        case let .stopSignal(signal):
            config.stopSignal = signal
        }
    }

    public var summary: String {
        switch self {
        case let .env(variables): return "ENV " + variables.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        case let .labels(labels): return "LABEL " + labels.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        case let .entrypoint(arguments): return "ENTRYPOINT " + Self.render(arguments)
        case let .cmd(arguments): return "CMD " + Self.render(arguments)
        case let .exposedPorts(ports): return "EXPOSE " + ports.joined(separator: " ")
        case let .volumes(paths): return "VOLUME " + paths.joined(separator: " ")
        case let .stopSignal(signal): return "STOPSIGNAL " + signal
        }
    }

    private static func render(_ arguments: [String]?) -> String {
        guard let arguments else { return "(none)" }
        return "[" + arguments.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }
}
