import ArgumentParser
import DevenvRuntime
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

extension NetworkMode: ExpressibleByArgument {}

/// Options `devenv run` and `devenv shell` share.
public struct ContainerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Image to run (default: the project's environment, built as needed).", valueName: "NAME"))
    public var image: String?

    @Option(help: ArgumentHelp("Run a root filesystem directory instead of an image (read-only lower layer).", valueName: "DIR"))
    public var rootfs: String?

    @Option(help: ArgumentHelp("Working directory inside the container (default: the mount target).", valueName: "DIR"))
    public var workdir: String?

    @Option(help: "Network: host (default) or none (only loopback).")
    public var network: NetworkMode?

    @Option(name: [.customShort("e"), .customLong("env")], help: ArgumentHelp("Set KEY=VALUE, or pass KEY from the host.", valueName: "KEY=VALUE"))
    public var environment: [String] = []

    @Flag(inversion: .prefixedNo, help: "Run on a pseudo-terminal (default: when stdin and stdout are terminals).")
    public var tty: Bool?

    @Option(name: .customLong("mount-dir"), help: ArgumentHelp("Host directory to mount read-write (default: the current directory).", valueName: "DIR"))
    public var mountDirectory: String?

    @Option(name: .customLong("mount-target"), help: ArgumentHelp("Where the directory appears inside (default /workspace, or the manifest's [shell] mount).", valueName: "PATH"))
    public var mountTarget: String?

    @Option(help: "Hostname inside the container.")
    public var hostname: String = "devenv"

    public init() {}

    public func validate() throws {
        guard image == nil || rootfs == nil else { throw ValidationError("give at most one of --image NAME or --rootfs DIR") }
        if let rootfs, rootfs.isEmpty { throw ValidationError("--rootfs needs a directory") }
        for entry in environment where entry.hasPrefix("=") || entry.isEmpty {
            throw ValidationError("-e \(entry): expected KEY=VALUE or KEY")
        }
    }

    /// Without --image or --rootfs, run and shell use the project's environment.
    public var projectMode: Bool { image == nil && rootfs == nil }

    /// `-e KEY` passes the host's value (and is dropped when the host has none), like docker.
    public func resolvedEnvironment() -> [String] {
        let host = ProcessInfo.processInfo.environment
        return environment.compactMap { entry in
            if entry.contains("=") { return entry }
            return host[entry].map { "\(entry)=\($0)" }
        }
    }

    /// A session on an image's snapshot directories (or --rootfs), with the working tree mounted.
    public func workspaceSession(lowerDirs: [String], imageEnvironment: [String], command: [String]?, defaultTerminal: Bool) throws -> WorkspaceSession {
        WorkspaceSession(
            lowerDirs: lowerDirs, imageEnvironment: imageEnvironment, command: command,
            mountDirectory: Self.absolute(mountDirectory ?? FileManager.default.currentDirectoryPath),
            mountTarget: mountTarget ?? WorkspaceSession.defaultMountTarget, workingDirectory: workdir, environment: resolvedEnvironment(),
            network: network ?? .host, terminal: tty ?? defaultTerminal,
            terminalType: ProcessInfo.processInfo.environment["TERM"], hostname: hostname,
            seccomp: try SeccompFilter.dockerDefault(capabilities: .dockerDefault, cacheDirectory: SeccompFilter.defaultCacheDirectory()))
    }

    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    public static var stdioIsTerminal: Bool { isatty(0) == 1 && isatty(1) == 1 }
}
