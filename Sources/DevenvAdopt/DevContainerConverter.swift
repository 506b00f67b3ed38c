import DevenvManifest
import Foundation

/// `devenv init --from-devcontainer`: a `.devenv/devenv.toml` that builds and enters the
/// same environment as the project's devcontainer.json. What has no manifest equivalent
/// becomes a comment saying so; lifecycle commands become tasks (they need the working
/// tree, which build steps do not see).
public enum DevContainerConverter {
    /// The manifest text for the configuration read from `displayPath`.
    public static func convert(_ config: DevContainerConfig, displayPath: String) -> String {
        var out = "# Converted from \(displayPath) by `devenv init --from-devcontainer`.\n"
        out += "# devcontainer.json keeps working without this file; delete one of the two to avoid confusion.\n\n"
        out += "[base]\n"
        switch config.base {
        case let .image(image):
            out += "image = \(quote(image.value))\n"
        case let .dockerfile(dockerfile):
            out += "dockerfile = \(quote(dockerfile.path.value))\n"
            if let context = dockerfile.context, context.value != "." { out += "context = \(quote(context.value))\n" }
            if let target = dockerfile.target { out += "target = \(quote(target.value))\n" }
            if !dockerfile.args.isEmpty { out += "args = \(table(dockerfile.args.map { ($0.name, $0.value) }))\n" }
        }
        if !config.containerEnv.isEmpty {
            out += "\n# containerEnv\n[[step]]\nenv = \(table(config.containerEnv.map { ($0.name, $0.value) }))\n"
        }
        out += "\n[shell]\n"
        out += "mount = \(quote(config.workspaceMountTarget))\n"
        if config.workspaceFolder != config.workspaceMountTarget { out += "workdir = \(quote(config.workspaceFolder))\n" }
        if !config.remoteEnv.isEmpty {
            let values = config.remoteEnv.map { ($0.name, containerReferences($0.value)) }
            out += "env = \(table(values))\n"
        }
        if let network = config.network { out += "network = \(quote(network.rawValue))\n" }
        if !config.mounts.isEmpty {
            out += "mounts = [\n"
            for mount in config.mounts {
                out += "    { host = \(quote(mount.source.description)), container = \(quote(mount.target))\(mount.readOnly ? ", readonly = true" : "") },\n"
            }
            out += "]\n"
        }
        if let user = config.remoteUser ?? config.containerUser {
            out += "# remoteUser \(user): devenv runs shells as your own uid with a home directory.\n"
        }
        if !config.forwardPorts.isEmpty {
            out += "# forwardPorts \(config.forwardPorts.joined(separator: ", ")): the shell shares the host network, ports need no forwarding.\n"
        }
        let commands = config.createCommands + config.startCommands
        if !commands.isEmpty {
            out += "\n# Lifecycle commands, as tasks: `devenv run post-create` after the first build, and so on.\n[tasks]\n"
            for command in commands {
                out += "\(taskName(command.name)) = \(value(command.command))\n"
            }
        }
        // A manifest has no features: each is named, so what it installed is not lost unseen.
        let features = config.features.map {
            "\(displayPath):\($0.location.line):\($0.location.column): feature '\(Printable.escape($0.reference, limit: 200))' is not converted: a devenv.toml has no features; install what it provides in a [[step]]"
        }
        let volumes = config.volumes.map {
            "\(displayPath): 'mounts': the volume '\($0.name)' at \(Printable.escape($0.target)) is not converted: [shell] mounts bind host paths only; bind a directory instead"
        }
        let unconverted = config.warnings + volumes + features
        if !unconverted.isEmpty {
            out += "\n# Not converted:\n" + unconverted.map { "#   \(oneLine($0))\n" }.joined()
        }
        return out
    }

    /// `postCreateCommand.install` -> `post-create-install`.
    static func taskName(_ key: String) -> String {
        var name = ""
        for character in key.replacingOccurrences(of: "Command", with: "") {
            if character.isUppercase {
                name += "-" + character.lowercased()
            } else if character.isLetter || character.isNumber || character == "_" || character == "-" {
                name.append(character)
            } else {
                name += "-"
            }
        }
        while name.contains("--") { name = name.replacingOccurrences(of: "--", with: "-") }
        return name.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    /// `${containerEnv:PATH}` -> `$PATH`: the shell environment expands against the image's.
    static func containerReferences(_ value: String) -> String {
        var out = value
        while let start = out.range(of: "${containerEnv:"), let end = out[start.upperBound...].firstIndex(of: "}") {
            let name = out[start.upperBound..<end].split(separator: ":").first.map(String.init) ?? ""
            out.replaceSubrange(start.lowerBound...end, with: "${\(name)}")
        }
        return out
    }

    private static func value(_ command: Manifest.Command) -> String {
        switch command {
        case let .shell(script): return quote(script)
        case let .argv(arguments): return "[" + arguments.map(quote).joined(separator: ", ") + "]"
        }
    }

    private static func table(_ pairs: [(String, String)]) -> String {
        "{ " + pairs.map { "\(key($0.0)) = \(quote($0.1))" }.joined(separator: ", ") + " }"
    }

    private static func key(_ name: String) -> String {
        let bare = !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
        return bare ? name : quote(name)
    }

    private static func quote(_ text: String) -> String { TOMLString.quote(text) }

    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }
}
