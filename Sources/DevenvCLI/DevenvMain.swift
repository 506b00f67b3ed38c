import ArgumentParser
import DevenvKit
import DevenvSystem
import Foundation

public enum DevenvMain {
    public static func main() {
        let arguments = CommandLine.arguments
        if arguments.count >= 2, arguments[1] == NamespaceHelper.argument {
            NamespaceHelper.main(Array(arguments.dropFirst(2)))
        }
        // Rootless, trees written in the user namespace (build steps' upper and work
        // directories, snapshots adopted from them) are removed from inside it.
        if geteuid() != 0 { DirectoryRemover.permissionFallback = { try NamespaceHelper.remove($0) } }
        Devenv.main()
    }
}

struct Devenv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devenv",
        abstract: "Reproducible development environments: OCI images, layer cache, daemonless containers.",
        version: "0.1.0",
        subcommands: [
            BuildCommand.self, RunCommand.self, ShellCommand.self, StatusCommand.self, LockCommand.self, ImageCommand.self, GCCommand.self, DoctorCommand.self, LayerCommand.self,
            PullCommand.self, PushCommand.self, LoginCommand.self, LogoutCommand.self,
            InitCommand.self,
        ]
    )
}
