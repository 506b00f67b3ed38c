import ArgumentParser
import DevenvLaunch
import DevenvRuntime
import DevenvSession

extension NetworkMode: ExpressibleByArgument {}

/// Options `devenv run` and `devenv shell` share.
struct ContainerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Image to run (default: the project's environment, built as needed).", valueName: "NAME"))
    var image: String?

    @Option(help: ArgumentHelp("Run a root filesystem directory instead of an image (read-only lower layer).", valueName: "DIR"))
    var rootfs: String?

    @Option(name: [.customShort("w"), .long], help: ArgumentHelp("Working directory inside the container (default: the mount target).", valueName: "DIR"))
    var workdir: String?

    @Option(help: "Network: host (default) or none (only loopback).")
    var network: NetworkMode?

    @Option(name: [.customShort("e"), .customLong("env")], help: ArgumentHelp("Set KEY=VALUE, or pass KEY from the host.", valueName: "KEY=VALUE"))
    var environment: [String] = []

    @Option(name: [.customShort("v"), .customLong("volume")], help: ArgumentHelp("Bind a host path: SRC:DST[:ro] (SRC absolute, ~/…, or relative to the project).", valueName: "SRC:DST"))
    var volumes: [String] = []

    @Option(name: [.customShort("u"), .long], help: ArgumentHelp("Run as NAME or UID[:GID] from the image's accounts (default: your own ids).", valueName: "USER"))
    var user: String?

    @Option(name: .customLong("device"), help: ArgumentHelp("A host device node, /dev/X[:/dev/Y][:rwm] (without w: read-only), or a CDI device vendor.com/class=name.", valueName: "DEVICE"))
    var devices: [String] = []

    @Option(name: .customLong("gpus"), help: ArgumentHelp("GPUs through CDI: 'all' is --device nvidia.com/gpu=all.", valueName: "all"))
    var gpus: String?

    @Option(name: .customLong("env-file"), help: ArgumentHelp("Read KEY=VALUE lines from FILE (docker's format); -e overrides them.", valueName: "FILE"))
    var envFiles: [String] = []

    @Flag(name: .customLong("no-ssh-agent"), help: "Do not forward the host's ssh agent ($SSH_AUTH_SOCK).")
    var noSSHAgent = false

    @Flag(name: .customLong("no-git-identity"), help: "In a project, do not give git the host user's name and email.")
    var noGitIdentity = false

    @Flag(name: .customLong("no-dotfiles"), help: "In a project, do not bind the host files [shell] dotfiles lists.")
    var noDotfiles = false

    @Flag(inversion: .prefixedNo, help: "Run on a pseudo-terminal (default: when stdin and stdout are terminals).")
    var tty: Bool?

    @Option(name: .customLong("mount-dir"), help: ArgumentHelp("Host directory to mount read-write (default: the current directory; not in a project, which mounts its own).", valueName: "DIR"))
    var mountDirectory: String?

    @Option(name: .customLong("mount-target"), help: ArgumentHelp("Where the directory appears inside (default /workspace, or the manifest's [shell] mount).", valueName: "PATH"))
    var mountTarget: String?

    @Option(help: "Hostname inside the container (default: the project's name, or devenv).")
    var hostname: String?

    @Option(help: ArgumentHelp("Memory limit (RAM and swap), e.g. 2g, or max (default: max).", valueName: "SIZE"))
    var memory: String?

    @Option(help: ArgumentHelp("Limit on processes and threads, or max (default: 16384).", valueName: "N"))
    var pids: String?

    @Option(help: ArgumentHelp("CPU limit as a number of CPUs, e.g. 1.5, or max (default: max).", valueName: "N"))
    var cpus: String?

    @Option(name: .customLong("shm-size"), help: ArgumentHelp("Size of /dev/shm (default: 1g).", valueName: "SIZE"))
    var shmSize: String?

    init() {}

    func validate() throws {
        guard image == nil || rootfs == nil else { throw ValidationError("give at most one of --image NAME or --rootfs DIR") }
        if let rootfs, rootfs.isEmpty { throw ValidationError("--rootfs needs a directory") }
        if let gpus, gpus != "all" { throw ValidationError("--gpus \(gpus): only 'all' is supported (or name one: --device nvidia.com/gpu=NAME)") }
        for entry in environment where entry.hasPrefix("=") || entry.isEmpty {
            throw ValidationError("-e \(entry): expected KEY=VALUE or KEY")
        }
    }

    /// The parsed values.
    var values: SessionOptions {
        var values = SessionOptions()
        values.image = image
        values.rootfs = rootfs
        values.workdir = workdir
        values.network = network
        values.environment = environment
        values.envFiles = envFiles
        values.volumes = volumes
        values.user = user
        values.devices = devices + (gpus.map { ["nvidia.com/gpu=\($0)"] } ?? [])
        values.sshAgent = noSSHAgent ? false : nil
        values.gitIdentity = noGitIdentity ? false : nil
        values.dotfiles = noDotfiles ? false : nil
        values.tty = tty
        values.mountDirectory = mountDirectory
        values.mountTarget = mountTarget
        values.hostname = hostname
        values.memory = memory
        values.pids = pids
        values.cpus = cpus
        values.shmSize = shmSize
        return values
    }

    var projectMode: Bool { values.projectMode }
}
