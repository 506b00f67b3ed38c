import DevenvRuntime
import DevenvSession

/// A strict, reflection-free reading of the common `devenv run`/`devenv shell` command lines,
/// for the front end's warm starts: ArgumentParser spends more time building its view of the
/// options than the rest of a container start's user-space work. Anything it does not
/// recognise exactly — help, unknown or repeated options, values that look like options,
/// projects — yields nil, and the full CLI parses the line instead (with its error messages).
/// QuickCommandLineTests checks that every line it accepts means the same to ArgumentParser.
public struct QuickCommandLine: Equatable, Sendable {
    public var options = SessionOptions()
    public var store: String?
    /// `run`'s command; nil for `shell`.
    public var command: [String]?

    public static func parse(verb: String, arguments: [String]) -> QuickCommandLine? {
        guard verb == "run" || verb == "shell" else { return nil }
        var line = QuickCommandLine()
        var seen = Set<String>()
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" {
                guard verb == "run" else { return nil }
                line.command = Array(arguments[(index + 1)...])
                break
            }
            guard word.hasPrefix("-") else {
                guard verb == "run" else { return nil }
                line.command = Array(arguments[index...])
                break
            }
            var name = word
            var inlineValue: String?
            if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                inlineValue = String(word[word.index(after: equals)...])
            }
            if name == "-e" { name = "--env" }
            guard name == "--env" || seen.insert(name).inserted else { return nil }
            if let flag = flags[name] {
                guard inlineValue == nil else { return nil }
                flag(&line)
                index += 1
                continue
            }
            guard let option = options[name] else { return nil }
            let value: String
            if let inlineValue {
                value = inlineValue
                index += 1
            } else {
                guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("-") else { return nil }
                value = arguments[index + 1]
                index += 2
            }
            guard option(&line, value) else { return nil }
        }
        if verb == "run" { guard let command = line.command, !command.isEmpty else { return nil } }
        guard line.isValid else { return nil }
        return line
    }

    /// ContainerOptions.validate's rules; a line that breaks them goes to the full CLI, which
    /// explains.
    private var isValid: Bool {
        guard options.image == nil || options.rootfs == nil, options.rootfs != "" else { return false }
        return !options.environment.contains { $0.isEmpty || $0.hasPrefix("=") }
    }

    private static let flags: [String: @Sendable (inout QuickCommandLine) -> Void] = [
        "--tty": { $0.options.tty = true },
        "--no-tty": { $0.options.tty = false },
        "--no-ssh-agent": { $0.options.sshAgent = false },
        "--no-git-identity": { $0.options.gitIdentity = false },
        "--no-dotfiles": { $0.options.dotfiles = false },
        "--json": { _ in },
    ]

    private static let options: [String: @Sendable (inout QuickCommandLine, String) -> Bool] = [
        "--image": { $0.options.image = $1; return true },
        "--rootfs": { $0.options.rootfs = $1; return true },
        "--workdir": { $0.options.workdir = $1; return true },
        "--network": { line, value in
            // A private network is a project's: the full CLI says so.
            guard let mode = NetworkMode(rawValue: value), mode != .private else { return false }
            line.options.network = mode
            return true
        },
        "--env": { $0.options.environment.append($1); return true },
        "--mount-dir": { $0.options.mountDirectory = $1; return true },
        "--mount-target": { $0.options.mountTarget = $1; return true },
        "--hostname": { $0.options.hostname = $1; return true },
        "--store": { $0.store = $1; return true },
        // Values ResourceLimits rejects go to the full CLI, which explains.
        "--memory": { $0.options.memory = $1; return (try? $0.options.limits()) != nil },
        "--pids": { $0.options.pids = $1; return (try? $0.options.limits()) != nil },
        "--cpus": { $0.options.cpus = $1; return (try? $0.options.limits()) != nil },
        "--shm-size": { $0.options.shmSize = $1; return (try? $0.options.limits()) != nil },
    ]
}
