import ArgumentParser
import DevenvKit
import DevenvOCI
import DevenvRuntime
import DevenvStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension NetworkMode: ExpressibleByArgument {}

/// Options `devenv run` and `devenv shell` share.
struct ContainerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Image to run.", valueName: "NAME"))
    var image: String?

    @Option(help: ArgumentHelp("Run a root filesystem directory instead of an image (read-only lower layer).", valueName: "DIR"))
    var rootfs: String?

    @Option(help: ArgumentHelp("Working directory inside the container (default: the mount target).", valueName: "DIR"))
    var workdir: String?

    @Option(help: "Network: host (default) or none (only loopback).")
    var network: NetworkMode = .host

    @Option(name: [.customShort("e"), .customLong("env")], help: ArgumentHelp("Set KEY=VALUE, or pass KEY from the host.", valueName: "KEY=VALUE"))
    var environment: [String] = []

    @Flag(inversion: .prefixedNo, help: "Run on a pseudo-terminal (default: when stdin and stdout are terminals).")
    var tty: Bool?

    @Option(name: .customLong("mount-dir"), help: ArgumentHelp("Host directory to mount read-write (default: the current directory).", valueName: "DIR"))
    var mountDirectory: String?

    @Option(name: .customLong("mount-target"), help: ArgumentHelp("Where the directory appears inside.", valueName: "PATH"))
    var mountTarget: String = WorkspaceSession.defaultMountTarget

    @Option(help: "Hostname inside the container.")
    var hostname: String = "devenv"

    func validate() throws {
        guard (image == nil) != (rootfs == nil) else { throw ValidationError("give exactly one of --image NAME or --rootfs DIR") }
        if let rootfs, !rootfs.hasPrefix("/") && rootfs.isEmpty { throw ValidationError("--rootfs needs a directory") }
        for entry in environment where entry.hasPrefix("=") || entry.isEmpty {
            throw ValidationError("-e \(entry): expected KEY=VALUE or KEY")
        }
    }

    /// `-e KEY` passes the host's value (and is dropped when the host has none), like docker.
    func resolvedEnvironment() -> [String] {
        let host = ProcessInfo.processInfo.environment
        return environment.compactMap { entry in
            if entry.contains("=") { return entry }
            return host[entry].map { "\(entry)=\($0)" }
        }
    }
}

/// Resolves the image and starts a `WorkspaceSession` with the runtime; shared by run and shell.
struct SessionLauncher {
    let options: ContainerOptions
    let global: GlobalOptions

    /// Runs the session and exits with the command's status, or with 125/126/127 (and a
    /// message) when devenv cannot start it.
    func run(command: [String]?, defaultTerminal: Bool) throws {
        try reportingErrors {
            var lease: Lease?
            let session = try makeSession(command: command, defaultTerminal: defaultTerminal, lease: &lease)
            let status: ExitStatus
            do {
                status = try ContainerRunner().run(session.spec(for: HostIdentity.current()))
            } catch let error as RuntimeError {
                Terminal.note("devenv: error: \(error)")
                throw ExitCode(error.exitCode)
            }
            withExtendedLifetime(lease) {}
            throw ExitCode(status.shellCode)
        }
    }

    /// The image's snapshot directories come with a lease that keeps gc away from them while
    /// the container runs.
    func makeSession(command: [String]?, defaultTerminal: Bool, lease: inout Lease?) throws -> WorkspaceSession {
        var lowerDirs: [String]
        var imageEnvironment: [String] = []
        if let rootfs = options.rootfs {
            lowerDirs = [absolute(rootfs)]
        } else {
            let engine = try global.engine()
            let image = try engine.resolve(try Reference(parsing: options.image ?? ""))
            let mounted = try engine.store.mount(image)
            lowerDirs = mounted.lowerDirs
            lease = mounted.lease
            imageEnvironment = image.config.config?.env ?? []
        }
        return WorkspaceSession(
            lowerDirs: lowerDirs, imageEnvironment: imageEnvironment, command: command,
            mountDirectory: absolute(options.mountDirectory ?? FileManager.default.currentDirectoryPath),
            mountTarget: options.mountTarget, workingDirectory: options.workdir, environment: options.resolvedEnvironment(),
            network: options.network, terminal: options.tty ?? defaultTerminal,
            terminalType: ProcessInfo.processInfo.environment["TERM"], hostname: options.hostname,
            seccomp: try SeccompFilter.dockerDefault(capabilities: .dockerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory()))
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static var stdioIsTerminal: Bool { isatty(0) == 1 && isatty(1) == 1 }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in an image with the current directory mounted at /workspace.",
        discussion: "Exits with the command's status (128+N when killed by signal N); 125 when devenv cannot start the container, 126 when the command cannot be executed, 127 when it is not found.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ContainerOptions

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command and its arguments (after --).", valueName: "CMD"))
    var command: [String] = []

    mutating func validate() throws {
        if command.first == "--" { command.removeFirst() }
        guard !command.isEmpty else { throw ValidationError("missing command: devenv run --image NAME -- CMD [ARGS...]") }
    }

    func run() throws {
        try SessionLauncher(options: options, global: global).run(command: command, defaultTerminal: SessionLauncher.stdioIsTerminal)
    }
}
