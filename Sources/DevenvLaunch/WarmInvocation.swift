import DevenvOCI
import DevenvSession
import DevenvStore
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// One project command line as it was started: the words, the directory, the user, whether
/// stdio is a terminal, and the environment variables the full CLI's decision reads. Its key
/// names the warm record; the front end and devenv-core compute it the same way, so a record
/// is found only by an invocation the full CLI would answer identically.
public struct WarmInvocation: Equatable, Sendable {
    public enum Verb: String, Sendable { case run, shell, build }

    public var verb: Verb
    /// Everything after the executable's name.
    public var arguments: [String]
    public var directory: String
    public var storeRoot: String
    public var terminal: Bool
    public var uid: UInt32
    /// `NAME=value` (or `NAME` when unset) for the variables that decide the outcome, and the
    /// resolved `-e` entries of run/shell.
    public var environment: [String]

    /// Variables the full CLI reads for a project session or build: TERM for the session's
    /// terminal, HOME and XDG_CONFIG_HOME for `~` mounts and git's configuration,
    /// SSH_AUTH_SOCK for the agent socket the session binds.
    static let variables = ["TERM", "HOME", "XDG_CONFIG_HOME", "SSH_AUTH_SOCK"]

    /// nil for any line the front end does not start itself: not a project line, or one the
    /// strict readers do not recognise.
    /// `environment`: the process's, read only for a line that is a project's (building the
    /// dictionary costs more than the parse, on every `--image` start too).
    public static func current(arguments: [String], environment given: [String: String]? = nil) -> WarmInvocation? {
        guard let first = arguments.first, let verb = Verb(rawValue: first) else { return nil }
        var store: String?
        var line: QuickCommandLine?
        switch verb {
        case .run, .shell:
            guard let parsed = QuickCommandLine.parse(verb: first, arguments: Array(arguments.dropFirst())), parsed.options.projectMode else { return nil }
            store = parsed.store
            line = parsed
        case .build:
            guard let parsed = BuildLine(Array(arguments.dropFirst())) else { return nil }
            store = parsed.store
        }
        let environment = given ?? ProcessInfo.processInfo.environment
        let entries = variables.map { name in environment[name].map { "\(name)=\($0)" } ?? name }
            + (line?.options.resolvedEnvironment().map { "-e " + $0 } ?? [])
        guard let root = try? store.map({ try HostPath.absolute($0, what: "--store") }) ?? StoreLayout.defaultRoot(environment: environment),
              let directory = try? HostPath.currentDirectory()
        else { return nil }
        return WarmInvocation(verb: verb, arguments: arguments, directory: directory, storeRoot: root,
                              terminal: SessionOptions.stdioIsTerminal, uid: geteuid(), environment: entries)
    }

    /// `build` alone or with `--store DIR`; nil for anything else (the full CLI parses it).
    struct BuildLine {
        var store: String?

        init?(_ arguments: [String]) {
            switch arguments.count {
            case 0: store = nil
            case 1 where arguments[0].hasPrefix("--store=") && arguments[0].count > "--store=".count:
                store = String(arguments[0].dropFirst("--store=".count))
            case 2 where arguments[0] == "--store" && !arguments[1].hasPrefix("-"): store = arguments[1]
            default: return nil
            }
        }
    }

    /// SHA-256 over a length-prefixed encoding of every field, so no two invocations share one.
    public var key: String {
        var bytes: [UInt8] = []
        func add(_ text: String) {
            let utf8 = Array(text.utf8)
            bytes += withUnsafeBytes(of: UInt64(utf8.count).littleEndian, Array.init)
            bytes += utf8
        }
        add("devenv warm invocation v1")
        add(verb.rawValue)
        add(String(arguments.count))
        arguments.forEach(add)
        add(directory)
        add(storeRoot)
        add(terminal ? "tty" : "no-tty")
        add(String(uid))
        add(String(environment.count))
        environment.forEach(add)
        return Digest.sha256(bytes).encoded
    }
}
