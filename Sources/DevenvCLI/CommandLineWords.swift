import ArgumentParser
import DevenvManifest
import Foundation

/// What devenv reads from the words of a command line before ArgumentParser does: global
/// options written before the subcommand are moved after it (ArgumentParser reads a
/// subcommand's options only after its name), and a word that names no subcommand is a
/// usage error with the nearest name, before anything has run.
enum CommandLineWords {
    /// `GlobalOptions`' flags and options (the ones that take a value).
    static let globalFlags: Set<String> = ["--json", "--debug"]
    static let globalOptions: Set<String> = ["--store"]

    /// `arguments` (without the executable's name) with the leading global options after the
    /// subcommand's name (`devenv --store D image ls` reads as `devenv image ls --store D`).
    static func normalized(_ arguments: [String], root: ParsableCommand.Type) throws -> [String] {
        var index = 0
        var globals: [String] = []
        while index < arguments.count {
            let word = arguments[index]
            if globalFlags.contains(word) || globalOptions.contains(where: { word.hasPrefix($0 + "=") }) {
                globals.append(word)
                index += 1
            } else if globalOptions.contains(word), index + 1 < arguments.count {
                globals += [word, arguments[index + 1]]
                index += 2
            } else {
                break
            }
        }
        let rest = Array(arguments[index...])
        let path = try subcommandPath(rest, root: root)
        return Array(rest.prefix(path)) + globals + Array(rest.dropFirst(path))
    }

    /// How many leading words name subcommands; a word where a subcommand must be named that
    /// names none is an error (an option, `help` or no word at all is left to ArgumentParser).
    static func subcommandPath(_ words: [String], root: ParsableCommand.Type) throws -> Int {
        var command = root
        var count = 0
        while count < words.count, !command.configuration.subcommands.isEmpty {
            let word = words[count]
            if word.hasPrefix("-") || word == "help" { break }
            let names = command.configuration.subcommands.flatMap(Self.names)
            guard let next = command.configuration.subcommands.first(where: { Self.names($0).contains(word) }) else {
                throw ValidationError(unknown("subcommand", word, among: names))
            }
            command = next
            count += 1
        }
        return count
    }

    private static func names(_ command: ParsableCommand.Type) -> [String] {
        [command.configuration.commandName ?? "\(command)"] + command.configuration.aliases
    }

    /// ArgumentParser's wording for an unknown option, so every usage error reads alike.
    static func unknown(_ what: String, _ word: String, among candidates: [String]) -> String {
        let quoted = "Unknown \(what) '\(Printable.escape(word, limit: 128))'"
        guard let nearest = NearestWord.nearest(to: word, among: candidates) else { return quoted }
        return "\(quoted). Did you mean '\(nearest)'?"
    }

    /// docker's words for what devenv decides itself or spells otherwise.
    static let dockerSpellings = ["-it": "--tty", "-ti": "--tty", "-t": "--tty", "-i": "--tty", "--interactive": "--tty"]

    /// An unknown option in words ArgumentParser captured as they are (`devenv run`'s command
    /// or task), where `--gpus` would otherwise become the command, or a task's name.
    static func unknownOption(_ word: String, of command: ParsableCommand.Type) -> String {
        let name = String(word.prefix { $0 != "=" })
        let quoted = "Unknown option '\(Printable.escape(name, limit: 128))'"
        let longNames = optionNames(of: command).filter { $0.hasPrefix("--") }
        // Compared without the dashes, so one edit means one edit of the name.
        let nearest = dockerSpellings[name].flatMap { longNames.contains($0) ? $0 : nil }
            ?? (name.hasPrefix("--") ? NearestWord.nearest(to: String(name.dropFirst(2)), among: longNames.map { String($0.dropFirst(2)) }).map { "--" + $0 } : nil)
        return nearest.map { "\(quoted). Did you mean '\($0)'?" } ?? quoted
    }

    /// The option names `command` declares (`--image`, `-e`, …), from ArgumentParser's own
    /// description of the command, so options other parts add are included without a list
    /// to keep in step. Only read on the error path.
    static func optionNames(of command: ParsableCommand.Type) -> [String] {
        struct Dump: Decodable {
            struct Command: Decodable { var arguments: [Argument]? }
            struct Argument: Decodable { var names: [Name]? }
            struct Name: Decodable { var kind: String; var name: String }
            var command: Command
        }
        guard let dump = try? JSONDecoder().decode(Dump.self, from: Data(command._dumpHelp().utf8)) else { return [] }
        let names: [Dump.Name] = (dump.command.arguments ?? []).flatMap { $0.names ?? [] }
        return names.map { (name: Dump.Name) -> String in
            let dashes = name.kind == "long" ? "--" : "-"
            return dashes + name.name
        }
    }
}
