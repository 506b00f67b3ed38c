import DevenvManifest
import DevenvPlan
import Foundation

extension DevContainerConfig {
    /// Pure: the configuration in `bytes`, for a project at `root`; `environment` supplies
    /// `${localEnv:…}`.
    /// - Throws: `DiagnosticError` named after `displayPath`, every problem at its place.
    public static func parse(_ bytes: [UInt8], root: String, displayPath: String, environment: [String: String],
                             devcontainerId: String? = nil) throws -> DevContainerConfig {
        let json = try DevContainerJSON.parse(bytes, path: displayPath)
        let directory = ("\(root)/\(displayPath)" as NSString).deletingLastPathComponent
        var reader = DevContainerReader(path: displayPath, configDirectory: directory, root: root, environment: environment, devcontainerId: devcontainerId)
        var config = reader.read(json)
        var diagnostics = reader.diagnostics
        config?.readFeatures(json, diagnostics: &diagnostics)
        config?.readBuildOptions(json["build"]?["options"], path: displayPath, diagnostics: &diagnostics)
        guard let config, diagnostics.isEmpty else {
            throw DiagnosticError(path: displayPath, source: bytes, diagnostics: diagnostics)
        }
        return config
    }

    /// What the image gets on top of its base: `containerEnv`, then (with `remoteUserUID`,
    /// rootless) the remote user's uid and gid made the host user's (`RemoteUserUID`), then
    /// the create commands, run in the workspace folder with the project mounted there, as
    /// the remote user (the base's user, `baseUser`, is restored after).
    public func steps(baseUser: String?, remoteUserUID: RemoteUserUID? = nil) -> [LoweredStep] {
        var steps: [LoweredStep] = []
        if !containerEnv.isEmpty {
            let variables = containerEnv.map { EnvironmentVariable(name: $0.name, value: $0.value) }
            steps.append(lowered(.config([.env(variables)]), at: containerEnv[0].location))
        }
        let user = remoteUser ?? containerUser
        var current = baseUser ?? ""
        if let remoteUserUID, let user, !RemoteUserUID.isRoot(user) {
            if !RemoteUserUID.isRoot(current) {
                steps.append(lowered(.config([.user("root")]), at: .start))
                current = "root"
            }
            steps.append(lowered(.run(remoteUserUID.step(for: user)), at: .start))
        }
        guard let first = createCommands.first, let last = createCommands.last else {
            if current != (baseUser ?? "") { steps.append(lowered(.config([.user(baseUser ?? "")]), at: .start)) }
            return steps
        }
        let switchUser = user != nil && user != current
        if let user, switchUser {
            steps.append(lowered(.config([.user(user)]), at: first.location))
        }
        for command in createCommands {
            let run = RunStep(command: Self.inDirectory(workspaceFolder, command.command), projectMount: workspaceMountTarget)
            steps.append(lowered(.run(run), at: command.location))
        }
        if (user ?? current) != (baseUser ?? "") {
            steps.append(lowered(.config([.user(baseUser ?? "")]), at: last.location))
        }
        return steps
    }

    private func lowered(_ step: Step, at location: SourceLocation) -> LoweredStep {
        LoweredStep(step: step, definition: DockerfileWords.definition(of: step), location: location)
    }

    /// The command, run from `directory` (lifecycle commands start in the workspace folder).
    static func inDirectory(_ directory: String, _ command: Manifest.Command) -> [String] {
        switch command {
        case let .shell(script):
            return ["/bin/sh", "-c", "cd \(RunStep.shellQuote(directory)) && \(script)"]
        case let .argv(arguments):
            return ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + arguments
        }
    }

    /// How `devenv shell` and `devenv run` enter the built image of the project at `root`;
    /// `imageEnvironment` (the image config's `Env`) resolves `${containerEnv:NAME}` in `remoteEnv`.
    public func shell(root: String, imageEnvironment: [String]) -> DevContainerShell {
        var container: [String: String] = [:]
        for entry in imageEnvironment {
            let (name, value) = ConfigEditor.split(entry)
            container[name] = value
        }
        let variables = DevContainerVariables(localEnvironment: [:], localWorkspaceFolder: root, containerWorkspaceFolder: workspaceFolder)
        let environment = remoteEnv.map { "\($0.name)=\(variables.substitute($0.value, containerEnvironment: container))" }
        var shell = DevContainerShell(mountPoint: workspaceMountTarget, workingDirectory: workspaceFolder, environment: environment,
                                      user: remoteUser ?? containerUser, network: network, hostname: hostname,
                                      mounts: mounts, startCommands: startCommands.map(\.command), forwardPorts: forwardPorts)
        shell.volumes = volumes
        return shell
    }
}

/// What a shell in an adopted devcontainer project needs, beyond the image.
public struct DevContainerShell: Sendable, Equatable {
    /// Mount the project directory here (read-write).
    public var mountPoint: String
    /// Start the shell or command here.
    public var workingDirectory: String
    /// `remoteEnv`, resolved: `KEY=VALUE` entries to add after the image's environment.
    public var environment: [String]
    /// `remoteUser` or `containerUser`: the account whose name and home the session should
    /// use when its uid is the host user's (devenv always runs as the host user's uid).
    public var user: String?
    /// nil: devenv's default (host).
    public var network: Manifest.Network?
    public var hostname: String?
    /// Extra bind mounts (`mounts` of type bind, the features' working-tree binds).
    public var mounts: [Manifest.Mount]
    /// Named volumes (`mounts` of type volume, the features' too).
    public var volumes: [DevContainerVolume] = []
    /// `postStartCommand` then `postAttachCommand`: run in order before the shell or command,
    /// in the same container, from `workingDirectory`; a failure stops the session.
    public var startCommands: [Manifest.Command]
    /// Reachable on localhost already (host network); for messages.
    public var forwardPorts: [String]
}
