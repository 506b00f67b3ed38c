import ArgumentParser
import DevenvKit
import DevenvSystem
import Foundation

public enum DevenvMain {
    /// `ParsableCommand.main()` without its own printing: ArgumentParser's messages quote the
    /// command line (`Unknown option '…'`), so they go out through `Terminal` like every other.
    public static func main() {
        let arguments = CommandLine.arguments
        if arguments.count >= 2, arguments[1] == NamespaceHelper.argument {
            NamespaceHelper.main(Array(arguments.dropFirst(2)))
        }
        // Rootless, trees written in the user namespace (build steps' upper and work
        // directories, snapshots adopted from them) are removed from inside it.
        if geteuid() != 0 { DirectoryRemover.permissionFallback = { try NamespaceHelper.remove($0) } }
        DebugLogging.enableIfRequested()
        do {
            // Every usage error comes from here, before any store, registry or container work.
            var command = try Devenv.parseAsRoot(CommandLineWords.normalized(Array(arguments.dropFirst()), root: Devenv.self))
            try command.run()
        } catch {
            let code = Devenv.exitCode(for: error)
            let message = Devenv.fullMessage(for: error)
            if !message.isEmpty {
                if code == .success { Terminal.print(message) } else { Terminal.error(message) }
            }
            exit(code.rawValue)
        }
    }
}

struct Devenv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devenv",
        abstract: "Reproducible development environments: OCI images, layer cache, daemonless containers.",
        version: "0.1.0",
        subcommands: [
            BuildCommand.self, RunCommand.self, ShellCommand.self, ExecCommand.self, PsCommand.self, StopCommand.self, UpCommand.self, DownCommand.self, LogsCommand.self, StatusCommand.self, LockCommand.self, VerifyCommand.self, ImageCommand.self, GCCommand.self, DFCommand.self, SystemCommand.self, CheckCommand.self, DoctorCommand.self, LayerCommand.self,
            PullCommand.self, PushCommand.self, LoginCommand.self, LogoutCommand.self,
            InitCommand.self, TasksCommand.self, KubeCommand.self,
        ]
    )
}
