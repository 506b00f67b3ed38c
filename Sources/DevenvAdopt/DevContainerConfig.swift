import DevenvManifest
import Foundation

/// What devenv takes from a devcontainer.json: how to get the image (an `image`, or a
/// Dockerfile `build`), what to add on top (`containerEnv`, the create commands, cached as
/// layers), and how to start shells in it (workspace folder, `remoteEnv`, user, mounts,
/// network, the start commands). Keys devenv cannot honour produce one warning each.
public struct DevContainerConfig: Sendable {
    public enum Base: Sendable, Equatable {
        case image(Located<String>)
        /// Paths relative to the project directory.
        case dockerfile(Manifest.DockerfileBase)
    }

    /// One lifecycle command; `name` is the key (`postCreateCommand`, or
    /// `postCreateCommand.install` for a member of the object form).
    public struct LifecycleCommand: Sendable, Equatable {
        public var name: String
        public var command: Manifest.Command
        public var location: SourceLocation
    }

    public var base: Base
    /// Baked into the image's environment (with `-e` values from `runArgs`).
    public var containerEnv: [Manifest.EnvironmentVariable]
    /// For shells only; values may still hold `${containerEnv:NAME}`, see `shell(root:imageEnvironment:)`.
    public var remoteEnv: [Manifest.EnvironmentVariable]
    public var remoteUser: String?
    public var containerUser: String?
    /// Where shells start (`workspaceFolder`, default `/workspaces/<project directory name>`).
    public var workspaceFolder: String
    /// Where the project directory is mounted: `workspaceMount`'s target, else `workspaceFolder`.
    public var workspaceMountTarget: String
    /// `mounts` of type bind (host paths; a working-tree one is checked when a session binds it).
    public var mounts: [Manifest.Mount]
    /// `mounts` of type volume: the project's named volumes.
    public var volumes: [DevContainerVolume] = []
    public var network: Manifest.Network?
    public var hostname: String?
    /// `onCreateCommand`, `updateContentCommand`, `postCreateCommand`: run once, cached as layers.
    public var createCommands: [LifecycleCommand]
    /// `postStartCommand`, `postAttachCommand`: run before every shell.
    public var startCommands: [LifecycleCommand]
    public var forwardPorts: [String]
    /// `path:line:column: key: why it is ignored`, one per unsupported key or value.
    public var warnings: [String]
    public var notes: [String]
    /// `features`, in the order written, and `overrideFeatureInstallOrder` (DevContainerConfig+Features).
    public var features: [FeatureRequest] = []
    public var featureInstallOrder: [String] = []
    /// The substitutions of this file, for the features' `mounts`.
    var variables: DevContainerVariables?

    /// A feature's `mounts` entry with this file's variables substituted (the spec gives
    /// features the same ones).
    public func featureMount(_ text: String) -> DevContainerMount {
        DevContainerMount.read(DevContainerMount.fields(variables?.substitute(text) ?? text))
    }
}

/// The substitutions devcontainer.json allows in its strings.
struct DevContainerVariables {
    var localEnvironment: [String: String]
    var localWorkspaceFolder: String
    var containerWorkspaceFolder: String
    /// `${devcontainerId}`: devenv's id of the project (stable for its directory); nil leaves it as written.
    var devcontainerId: String? = nil

    /// `${localEnv:NAME}`, `${localEnv:NAME:default}`, `${localWorkspaceFolder}`,
    /// `${localWorkspaceFolderBasename}`, `${containerWorkspaceFolder}`,
    /// `${containerWorkspaceFolderBasename}`, `${devcontainerId}`; with `containerEnvironment`, also
    /// `${containerEnv:NAME}`. Anything else is left as written.
    func substitute(_ text: String, containerEnvironment: [String: String]? = nil) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                out += rest[start.lowerBound...]
                return out
            }
            let body = String(rest[start.upperBound..<end])
            out += replacement(body, containerEnvironment) ?? "${\(body)}"
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    private func replacement(_ body: String, _ containerEnvironment: [String: String]?) -> String? {
        let parts = body.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "localEnv", "env":
            guard parts.count >= 2 else { return nil }
            return localEnvironment[parts[1]] ?? (parts.count == 3 ? parts[2] : "")
        case "containerEnv":
            guard parts.count >= 2, let containerEnvironment else { return nil }
            return containerEnvironment[parts[1]] ?? (parts.count == 3 ? parts[2] : "")
        case "localWorkspaceFolder": return localWorkspaceFolder
        case "localWorkspaceFolderBasename": return (localWorkspaceFolder as NSString).lastPathComponent
        case "containerWorkspaceFolder": return containerWorkspaceFolder
        case "containerWorkspaceFolderBasename": return (containerWorkspaceFolder as NSString).lastPathComponent
        case "devcontainerId": return devcontainerId
        default: return nil
        }
    }
}

/// Reads the JSON into a `DevContainerConfig`, collecting type errors and warnings.
struct DevContainerReader {
    /// Keys that only tools read, or that describe what devenv does anyway.
    static let quietKeys: Set<String> = ["name", "$schema", "customizations", "overrideCommand", "shutdownAction", "updateRemoteUserUID", "init"]
    static let supportedKeys: Set<String> = [
        "image", "build", "dockerFile", "context", "containerEnv", "remoteEnv", "remoteUser", "containerUser", "workspaceFolder",
        "workspaceMount", "mounts", "runArgs", "onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand",
        "postAttachCommand", "forwardPorts", "appPort", "portsAttributes", "otherPortsAttributes",
        "features", "overrideFeatureInstallOrder",
    ]
    static let composeKeys: Set<String> = ["dockerComposeFile", "service", "runServices"]

    let path: String
    /// The directory holding devcontainer.json (relative paths in `build` start there).
    let configDirectory: String
    let root: String
    var variables: DevContainerVariables
    private(set) var diagnostics: [Diagnostic] = []
    private var warnings: [String] = []
    private var warningLocations: [SourceLocation] = []
    private var notes: [String] = []

    init(path: String, configDirectory: String, root: String, environment: [String: String], devcontainerId: String? = nil) {
        self.path = path
        self.configDirectory = configDirectory
        self.root = root
        variables = DevContainerVariables(localEnvironment: environment, localWorkspaceFolder: root,
                                          containerWorkspaceFolder: "/workspaces/\((root as NSString).lastPathComponent)", devcontainerId: devcontainerId)
    }

    mutating func read(_ json: DevContainerJSON) -> DevContainerConfig? {
        guard let members = json.members else {
            error("expected an object, found \(json.typeDescription)", json.location)
            return nil
        }
        for member in members {
            if Self.composeKeys.contains(member.key) {
                error("'\(member.key)': devenv does not run Docker Compose files; it builds one container from 'image' or 'build'. "
                      + "Give the development container its image or Dockerfile here and start the other services of the Compose file "
                      + "with podman-compose or docker compose (devenv's shell shares the host network, so it reaches their published ports; "
                      + "docs/dockerfile.md)", member.keyLocation)
            } else if !Self.supportedKeys.contains(member.key) && !Self.quietKeys.contains(member.key) {
                warn(member.keyLocation, member.key, Self.reason(member.key))
            }
        }
        if let folder = string(json["workspaceFolder"], "workspaceFolder") {
            variables.containerWorkspaceFolder = variables.substitute(folder)
        }
        let mountTarget = json["workspaceMount"].flatMap { readWorkspaceMount($0) }
        if json["workspaceFolder"] == nil, let mountTarget { variables.containerWorkspaceFolder = mountTarget }
        let workspaceFolder = variables.containerWorkspaceFolder
        let base = readBase(json)
        var containerEnv = environment(json["containerEnv"], "containerEnv")
        let remoteEnv = environment(json["remoteEnv"], "remoteEnv", keepContainerReferences: true)
        var network: Manifest.Network?
        var hostname: String?
        if let runArgs = json["runArgs"] { readRunArgs(runArgs, env: &containerEnv, network: &network, hostname: &hostname) }
        let (binds, volumes) = mounts(json["mounts"])
        var config = DevContainerConfig(
            base: base ?? .image(Located("", at: .start)), containerEnv: containerEnv, remoteEnv: remoteEnv,
            remoteUser: string(json["remoteUser"], "remoteUser").map { variables.substitute($0) },
            containerUser: string(json["containerUser"], "containerUser").map { variables.substitute($0) },
            workspaceFolder: workspaceFolder, workspaceMountTarget: mountTarget ?? workspaceFolder, mounts: binds, network: network, hostname: hostname,
            createCommands: ["onCreateCommand", "updateContentCommand", "postCreateCommand"].flatMap { lifecycle(json[$0], $0) },
            startCommands: ["postStartCommand", "postAttachCommand"].flatMap { lifecycle(json[$0], $0) },
            forwardPorts: ports(json), warnings: warnings, notes: notes)
        config.volumes = volumes
        config.variables = variables
        return base == nil ? nil : config
    }

    static func reason(_ key: String) -> String {
        switch key {
        case "initializeCommand": return "it would run on the host; devenv runs nothing from a project file outside a container, run it yourself"
        case "privileged", "capAdd", "securityOpt": return "devenv containers run with a fixed, confined set of privileges"
        case "hostRequirements": return "devenv does not check host requirements"
        case "userEnvProbe", "waitFor": return "not supported"
        default: return "unknown or unsupported key"
        }
    }

    // MARK: The image

    private mutating func readBase(_ json: DevContainerJSON) -> DevContainerConfig.Base? {
        let build = json["build"]
        if let build, build.members == nil {
            wrongType(build, "build", "an object")
            return nil
        }
        let dockerfileNode = build?["dockerfile"] ?? build?["dockerFile"] ?? json["dockerFile"]
        if let image = json["image"], dockerfileNode == nil {
            guard let text = string(image, "image") else { return nil }
            return .image(Located(variables.substitute(text), at: image.location, width: image.width))
        }
        guard let dockerfileNode, let dockerfile = string(dockerfileNode, "build.dockerfile") else {
            if json["image"] == nil && dockerfileNode == nil {
                error("needs 'image' or 'build.dockerfile'", json.location)
            }
            return nil
        }
        for member in build?.members ?? [] where !["dockerfile", "dockerFile", "context", "args", "target", "options"].contains(member.key) {
            warn(member.keyLocation, "build.\(member.key)", "not supported")
        }
        let contextNode = build?["context"] ?? json["context"]
        let context = contextNode.flatMap { string($0, "build.context") } ?? "."
        guard let file = projectRelative(variables.substitute(dockerfile), dockerfileNode),
              let contextPath = projectRelative(variables.substitute(context), contextNode ?? dockerfileNode) else { return nil }
        var target: Located<String>?
        if let node = build?["target"], let text = string(node, "build.target") {
            target = Located(variables.substitute(text), at: node.location, width: node.width)
        }
        let args = environment(build?["args"], "build.args")
        return .dockerfile(Manifest.DockerfileBase(path: Located(file, at: dockerfileNode.location, width: dockerfileNode.width),
                                                   context: Located(contextPath, at: (contextNode ?? dockerfileNode).location),
                                                   target: target, args: args))
    }

    /// A path relative to devcontainer.json's directory, as a path relative to the project.
    private mutating func projectRelative(_ path: String, _ node: DevContainerJSON) -> String? {
        let absolute = path.hasPrefix("/") ? path : "\(configDirectory)/\(path)"
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        let normalized = "/" + parts.joined(separator: "/")
        guard normalized == root || normalized.hasPrefix(root + "/") else {
            error("'\(Printable.escape(path, limit: 128))' is outside the project directory", node.location)
            return nil
        }
        let relative = String(normalized.dropFirst(root.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return relative.isEmpty ? "." : relative
    }

    // MARK: Values

    private mutating func environment(_ node: DevContainerJSON?, _ key: String, keepContainerReferences: Bool = false) -> [Manifest.EnvironmentVariable] {
        guard let node else { return [] }
        guard let members = node.members else {
            wrongType(node, key, "an object of strings")
            return []
        }
        var variables: [Manifest.EnvironmentVariable] = []
        for member in members {
            if case .null = member.value.value { continue }
            guard let value = string(member.value, "\(key).\(member.key)") else { continue }
            guard !member.key.isEmpty, !member.key.contains("="), !member.key.contains("\0") else {
                error("\(key): invalid variable name '\(Printable.escape(member.key, limit: 128))'", member.keyLocation)
                continue
            }
            variables.append(Manifest.EnvironmentVariable(name: member.key, value: self.variables.substitute(value), location: member.keyLocation))
        }
        return variables
    }

    private mutating func lifecycle(_ node: DevContainerJSON?, _ key: String) -> [DevContainerConfig.LifecycleCommand] {
        guard let node else { return [] }
        if let members = node.members {
            return members.compactMap { member in
                command(member.value, "\(key).\(member.key)").map { DevContainerConfig.LifecycleCommand(name: "\(key).\(member.key)", command: $0, location: member.value.location) }
            }
        }
        return command(node, key).map { [DevContainerConfig.LifecycleCommand(name: key, command: $0, location: node.location)] } ?? []
    }

    private mutating func command(_ node: DevContainerJSON, _ key: String) -> Manifest.Command? {
        if let text = node.string {
            return text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : .shell(variables.substitute(text))
        }
        if let elements = node.elements {
            let words = elements.compactMap { $0.string }
            guard words.count == elements.count, let first = words.first, !first.isEmpty else {
                wrongType(node, key, "a string, an array of strings or an object of them")
                return nil
            }
            return .argv(words.map { variables.substitute($0) })
        }
        wrongType(node, key, "a string, an array of strings or an object of them")
        return nil
    }

    private mutating func mounts(_ node: DevContainerJSON?) -> ([Manifest.Mount], [DevContainerVolume]) {
        guard let node else { return ([], []) }
        guard let elements = node.elements else {
            wrongType(node, "mounts", "an array")
            return ([], [])
        }
        var mounts: [Manifest.Mount] = []
        var volumes: [DevContainerVolume] = []
        for element in elements {
            var fields: [String: String] = [:]
            if let text = element.string {
                fields = DevContainerMount.fields(variables.substitute(text))
            } else if let members = element.members {
                for member in members { if let value = member.value.scalarText { fields[member.key.lowercased()] = variables.substitute(value) } }
            } else {
                wrongType(element, "mounts", "a string or an object")
                continue
            }
            switch DevContainerMount.read(fields) {
            case let .bind(source, target, readOnly):
                mounts.append(Manifest.Mount(source: .absolute(source), target: target, readOnly: readOnly, location: element.location))
            case let .volume(volume):
                volumes.append(volume)
            case let .unsupported(reason):
                warn(element.location, "mounts", reason + "; ignored")
            }
        }
        return (mounts, volumes)
    }

    /// The target of `workspaceMount`; its source must be the project directory.
    private mutating func readWorkspaceMount(_ node: DevContainerJSON) -> String? {
        guard let text = string(node, "workspaceMount") else { return nil }
        let fields = DevContainerMount.fields(variables.substitute(text))
        if let source = fields["source"] ?? fields["src"], source != root {
            warn(node.location, "workspaceMount", "devenv mounts the project directory itself; the source '\(Printable.escape(source, limit: 128))' is ignored")
        }
        guard let target = fields["target"] ?? fields["destination"] ?? fields["dst"], target.hasPrefix("/") else {
            warn(node.location, "workspaceMount", "it needs an absolute target; the default is used")
            return nil
        }
        return target
    }

    /// The `docker run` flags that have a devenv equivalent: -e/--env, --network, --hostname.
    private mutating func readRunArgs(_ node: DevContainerJSON, env: inout [Manifest.EnvironmentVariable], network: inout Manifest.Network?, hostname: inout String?) {
        guard let elements = node.elements else {
            wrongType(node, "runArgs", "an array of strings")
            return
        }
        var index = 0
        while index < elements.count {
            let element = elements[index]
            index += 1
            guard let argument = element.string.map({ variables.substitute($0) }) else { continue }
            var name = argument
            var value: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("-") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            let takesValue = ["-e", "--env", "--network", "--net", "--hostname", "-h"].contains(name) || Self.dockerRunValueFlags.contains(name)
            if takesValue && value == nil, index < elements.count {
                value = elements[index].string.map { variables.substitute($0) }
                index += 1
            }
            switch name {
            case "-e", "--env":
                guard let value else { continue }
                let pieces = value.split(separator: "=", maxSplits: 1).map(String.init)
                let entry = pieces.count == 2 ? pieces[1] : variables.localEnvironment[pieces[0]]
                if let entry { env.append(Manifest.EnvironmentVariable(name: pieces[0], value: entry, location: element.location)) }
            case "--network", "--net":
                switch value {
                case "host": network = .host
                case "none": network = Manifest.Network.none
                default: warn(element.location, "runArgs", "'\(Printable.escape(argument, limit: 128))': devenv shares the host network or has none; ignored")
                }
            case "--hostname", "-h":
                hostname = value
            case "--init", "--rm", "-it", "-i", "-t":
                continue
            default:
                // One warning per flag, with its value: `--cap-add SYS_PTRACE` is one flag.
                let written = value.map { argument.contains("=") ? argument : "\(argument) \($0)" } ?? argument
                warn(element.location, "runArgs", "'\(Printable.escape(written, limit: 128))' has no devenv equivalent; ignored")
            }
        }
    }

    /// `docker run` flags that take a value as the next argument (docker run --help).
    static let dockerRunValueFlags: Set<String> = [
        "--add-host", "--annotation", "--attach", "-a", "--blkio-weight", "--cap-add", "--cap-drop", "--cgroup-parent", "--cgroupns",
        "--cidfile", "--cpu-period", "--cpu-quota", "--cpu-shares", "-c", "--cpus", "--cpuset-cpus", "--cpuset-mems", "--device",
        "--device-cgroup-rule", "--dns", "--dns-option", "--dns-search", "--domainname", "--entrypoint", "--env-file", "--expose",
        "--gpus", "--group-add", "--health-cmd", "--health-interval", "--health-retries", "--health-start-period", "--health-timeout",
        "--ip", "--ip6", "--ipc", "--isolation", "--label", "-l", "--label-file", "--link", "--log-driver", "--log-opt",
        "--mac-address", "--memory", "-m", "--memory-reservation", "--memory-swap", "--memory-swappiness", "--mount", "--name",
        "--network-alias", "--pid", "--pids-limit", "--platform", "--publish", "-p", "--pull", "--restart", "--runtime",
        "--security-opt", "--shm-size", "--stop-signal", "--stop-timeout", "--storage-opt", "--sysctl", "--tmpfs", "--ulimit",
        "--user", "-u", "--userns", "--uts", "--volume", "-v", "--volumes-from", "--workdir", "-w",
    ]

    private mutating func ports(_ json: DevContainerJSON) -> [String] {
        var ports: [String] = []
        for key in ["forwardPorts", "appPort"] {
            guard let node = json[key] else { continue }
            let elements = node.elements ?? [node]
            for element in elements {
                switch element.value {
                case let .number(text): ports.append(text)
                case let .string(text): ports.append(text)
                default: continue
                }
            }
        }
        if !ports.isEmpty {
            notes.append("\(path): forwardPorts: devenv shares the host's network, so ports \(ports.joined(separator: ", ")) are reachable on localhost directly; nothing is forwarded")
        }
        return ports
    }

    // MARK: Reporting

    private mutating func string(_ node: DevContainerJSON?, _ key: String) -> String? {
        guard let node else { return nil }
        guard let text = node.string else {
            wrongType(node, key, "a string")
            return nil
        }
        return text
    }

    private mutating func wrongType(_ node: DevContainerJSON, _ key: String, _ expected: String) {
        error("\(key): expected \(expected), found \(node.typeDescription)", node.location)
    }

    private mutating func error(_ message: String, _ location: SourceLocation) {
        diagnostics.append(Diagnostic(message, at: location))
    }

    private mutating func warn(_ location: SourceLocation, _ key: String, _ reason: String) {
        let message = "\(path):\(location.line):\(location.column): '\(Printable.escape(key, limit: 128))' is ignored: \(reason)"
        // In file order, whatever order the keys are read in.
        let index = warningLocations.firstIndex { location < $0 } ?? warnings.count
        warnings.insert(message, at: index)
        warningLocations.insert(location, at: index)
    }
}
