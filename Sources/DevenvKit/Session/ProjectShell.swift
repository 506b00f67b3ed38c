import DevenvAdopt
import DevenvManifest
import DevenvPlan
import DevenvRuntime
import DevenvSession
import DevenvStore
import Foundation

/// What a project says about entering its environment, whichever file says it: a manifest's
/// `[shell]` and `[limits]`, or a devcontainer.json's workspace folder, `remoteEnv`,
/// network, mounts and start commands. `SessionPlanner` reads only this.
struct ProjectShell: Equatable {
    /// The project root, mounted read-write at `mountPoint`.
    var root: String
    var mountPoint: String
    /// Where a session starts when devenv runs outside the project's subdirectories.
    var workingDirectory: String
    /// The image config's `Env`.
    var imageEnvironment: [String]
    /// `KEY=VALUE` entries after the image's: `[shell] env_file`'s, then `[shell] env`'s
    /// with `$VAR`/`${VAR}` expanded against what is below them (as step `env` is).
    var environment: [String]
    /// `[shell] ssh_agent`, `git_identity`.
    var sshAgent: Bool
    var gitIdentity: Bool
    /// nil: devenv's default (host).
    var network: Manifest.Network?
    var mounts: [Manifest.Mount]
    /// The interactive shell; nil lets the image decide.
    var shell: String?
    /// Run in order before the shell or command (devcontainer.json `postStartCommand`, `postAttachCommand`).
    var startCommands: [Manifest.Command]
    var limits: ResourceLimits
    /// `[shell] devices`, in `--device`'s syntax, before the command line's.
    var devices: [String] = []
    /// devcontainer.json's (and its features') named volumes: the project's, in the store.
    var volumes: [DevContainerVolume] = []
    /// `[shell] dotfiles`, and the manifest they are written in (for warnings).
    var dotfiles: [Manifest.Dotfile] = []
    var manifestPath = ProjectLocator.manifestPath
    /// `[shell] home`.
    var home = Manifest.Home.ephemeral

    init(_ source: ProjectSource, image: StoredImage, host: [String: String]) throws {
        let imageEnvironment = image.config.config?.env ?? []
        switch source {
        case let .manifest(project):
            let shell = project.manifest.shell
            let fromFile = try shell.envFile.map { try ProjectEnvFile.entries($0, project: project, host: host) } ?? []
            let environment = fromFile + Self.expanding(shell.env, over: Self.expansionBase(imageEnvironment) + fromFile)
            self.init(root: project.root, mountPoint: shell.mountPoint, workingDirectory: shell.workingDirectory, imageEnvironment: imageEnvironment,
                      environment: environment, sshAgent: shell.sshAgent, gitIdentity: shell.gitIdentity, network: shell.network, mounts: shell.mounts,
                      shell: shell.shell?.value, startCommands: [], limits: try project.limits())
            devices = shell.devices.map(\.value)
            dotfiles = shell.dotfiles
            manifestPath = project.displayPath
            home = shell.home
        case let .devContainer(project):
            let shell = project.shell(imageEnvironment: imageEnvironment, imageLabels: image.config.config?.labels ?? [:])
            self.init(root: project.root, mountPoint: shell.mountPoint, workingDirectory: shell.workingDirectory, imageEnvironment: imageEnvironment,
                      environment: shell.environment, sshAgent: true, gitIdentity: true, network: shell.network,
                      mounts: try shell.mounts.map { try Self.checkedInTree($0, root: project.root, file: project.displayPath) },
                      shell: nil, startCommands: shell.startCommands, limits: .default)
            volumes = shell.volumes
        }
    }

    init(root: String, mountPoint: String, workingDirectory: String, imageEnvironment: [String], environment: [String], sshAgent: Bool = true,
         gitIdentity: Bool = true, network: Manifest.Network?, mounts: [Manifest.Mount], shell: String?, startCommands: [Manifest.Command], limits: ResourceLimits) {
        self.root = root
        self.mountPoint = mountPoint
        self.workingDirectory = workingDirectory
        self.imageEnvironment = imageEnvironment
        self.environment = environment
        self.sshAgent = sshAgent
        self.gitIdentity = gitIdentity
        self.network = network
        self.mounts = mounts
        self.shell = shell
        self.startCommands = startCommands
        self.limits = limits
    }

    /// A bind of a working-tree path (`${localWorkspaceFolder}/…`) as the path it really is,
    /// which must stay in the tree: the repository's own symlink cannot lead it to the host.
    static func checkedInTree(_ mount: Manifest.Mount, root: String, file: String) throws -> Manifest.Mount {
        guard case let .absolute(source) = mount.source else { return mount }
        let path = URL(fileURLWithPath: source).standardizedFileURL.path
        guard path == root || path.hasPrefix(root + "/") else { return mount }
        var checked = mount
        do {
            checked.source = .absolute(try ProjectServices.workingTreePath(String(path.dropFirst(root.count).drop { $0 == "/" }), in: root, create: false))
        } catch let problem as ProjectServices.VolumeProblem {
            throw KitError.sessionMount(where: "\(file): mount at \(Printable.escape(mount.target))", problem: problem.description)
        }
        return checked
    }

    /// The working tree at `target` instead (`--mount-target`), and the working directory
    /// with it where it was the mount point or inside it.
    func mounted(at target: String?) -> ProjectShell {
        guard let target, target != mountPoint else { return self }
        var moved = self
        moved.mountPoint = target
        if workingDirectory == mountPoint {
            moved.workingDirectory = target
        } else if workingDirectory.hasPrefix(mountPoint + "/") {
            moved.workingDirectory = target + workingDirectory.dropFirst(mountPoint.count)
        }
        return moved
    }

    /// What `$NAME` in `[shell] env` and task `env` sees first: the image's environment, and
    /// for an image without PATH the one the session gets (WorkspaceSession's default).
    static func expansionBase(_ imageEnvironment: [String]) -> [String] {
        (WorkspaceSession.value(of: "PATH", in: imageEnvironment) == nil ? ["PATH=" + WorkspaceSession.defaultPath] : []) + imageEnvironment
    }

    /// `variables` in order, each `$NAME`/`${NAME}` expanded against `base` and the variables
    /// before it: the entries for `variables` alone, expanded as step `env` is.
    static func expanding(_ variables: [Manifest.EnvironmentVariable], over base: [String]) -> [String] {
        var current = Dictionary(base.map(ConfigEditor.split), uniquingKeysWith: { _, last in last })
        return variables.map { variable in
            let value = ConfigEditor.expand(variable.value, with: current)
            current[variable.name] = value
            return "\(variable.name)=\(value)"
        }
    }
}
