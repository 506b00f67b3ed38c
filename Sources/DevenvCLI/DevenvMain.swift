import ArgumentParser

public enum DevenvMain {
    public static func main() {
        Devenv.main()
    }
}

struct Devenv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devenv",
        abstract: "Reproducible development environments: OCI images, layer cache, daemonless containers.",
        version: "0.1.0",
        subcommands: [
            BuildCommand.self, RunCommand.self, ShellCommand.self, StatusCommand.self, LockCommand.self, ImageCommand.self, GCCommand.self, CheckCommand.self, DoctorCommand.self, LayerCommand.self,
            PullCommand.self, PushCommand.self, LoginCommand.self, LogoutCommand.self,
            InitCommand.self,
        ]
    )
}
