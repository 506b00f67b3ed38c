import DevenvOCI

/// An edit of the image's run configuration that leaves the filesystem alone (a manifest's
/// `env` and `user`, a Dockerfile's ENV, USER, LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME and
/// STOPSIGNAL, HEALTHCHECK and ONBUILD, a devcontainer.json's `containerEnv`).
public enum ConfigChange: Hashable, Sendable, Codable {
    /// Sets each variable in order. With `expands`, `$NAME` and `${NAME}` in a value expand
    /// to the value the variable has at that point (a manifest's `PATH=/opt/bin:$PATH`, which
    /// cannot know the base's PATH when it is lowered); otherwise values are final (a
    /// Dockerfile's ENV is expanded by its planner).
    case env([EnvironmentVariable], expands: Bool = false)
    /// `name`, `uid`, `name:group` or `uid:gid`; empty is the image's default (root).
    case user(String)
    /// Adds or replaces labels (name = label key).
    case labels([EnvironmentVariable])
    /// nil clears it (an ENTRYPOINT without a CMD in the same stage drops the base's CMD).
    case entrypoint([String]?)
    case cmd([String]?)
    /// `80/tcp`, `53/udp`.
    case exposedPorts([String])
    case volumes([String])
    case stopSignal(String)
    /// Replaces the health check (`["NONE"]` turns the base's off).
    case healthcheck(ImageConfig.Healthcheck)
    /// Appends ONBUILD triggers; nil clears them (a stage built on an image consumes its
    /// triggers, as in BuildKit).
    case onBuild([String]?)

    public func apply(to config: inout ImageConfig.RunConfig) {
        switch self {
        case let .env(variables, expands):
            config.env = expands ? ConfigEditor.setting(variables, in: config.env ?? []) : ConfigEditor.replacing(variables, in: config.env ?? [])
        case let .user(user):
            config.user = user
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
        case let .healthcheck(healthcheck):
            config.healthcheck = healthcheck
        case let .onBuild(triggers):
            config.onBuild = triggers.map { (config.onBuild ?? []) + $0 }
        }
    }
}
