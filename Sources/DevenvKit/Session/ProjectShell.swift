import DevenvManifest
import DevenvRuntime
import DevenvStore

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
    /// `KEY=VALUE` entries after the image's.
    var environment: [String]
    /// nil: devenv's default (host).
    var network: Manifest.Network?
    var mounts: [Manifest.Mount]
    /// The interactive shell; nil lets the image decide.
    var shell: String?
    /// Run in order before the shell or command (devcontainer.json `postStartCommand`, `postAttachCommand`).
    var startCommands: [Manifest.Command]
    var limits: ResourceLimits

    init(_ source: ProjectSource, image: StoredImage) throws {
        let imageEnvironment = image.config.config?.env ?? []
        switch source {
        case let .manifest(project):
            let shell = project.manifest.shell
            self.init(root: project.root, mountPoint: shell.mountPoint, workingDirectory: shell.workingDirectory, imageEnvironment: imageEnvironment,
                      environment: shell.env.map { "\($0.name)=\($0.value)" }, network: shell.network, mounts: shell.mounts,
                      shell: shell.shell?.value, startCommands: [], limits: try project.limits())
        case let .devContainer(project):
            let shell = project.shell(imageEnvironment: imageEnvironment, imageLabels: image.config.config?.labels ?? [:])
            self.init(root: project.root, mountPoint: shell.mountPoint, workingDirectory: shell.workingDirectory, imageEnvironment: imageEnvironment,
                      environment: shell.environment, network: shell.network, mounts: shell.mounts,
                      shell: nil, startCommands: shell.startCommands, limits: .default)
        }
    }

    init(root: String, mountPoint: String, workingDirectory: String, imageEnvironment: [String], environment: [String],
         network: Manifest.Network?, mounts: [Manifest.Mount], shell: String?, startCommands: [Manifest.Command], limits: ResourceLimits) {
        self.root = root
        self.mountPoint = mountPoint
        self.workingDirectory = workingDirectory
        self.imageEnvironment = imageEnvironment
        self.environment = environment
        self.network = network
        self.mounts = mounts
        self.shell = shell
        self.startCommands = startCommands
        self.limits = limits
    }
}
