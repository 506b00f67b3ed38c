import DevenvSystem
import FoundationEssentials

/// Records `devenv __init` writes to the parent on the report pipe, one per line:
///
///     setup <stage>: <message> (<ERRNO>)    setup failed; init exits 127
///     exec <stage>: <message> (<ERRNO>)     the command could not be executed
///     signal <N>                            the command was killed by signal N
///
/// Text after the kind is the `stage: message (ERRNO)` form from docs/runtime.md.
public enum InitReport: Equatable, Sendable {
    case setup(String)
    case exec(String)
    case signal(Int32)

    public var line: String {
        switch self {
        case .setup(let text): return "setup \(Self.singleLine(text))\n"
        case .exec(let text): return "exec \(Self.singleLine(text))\n"
        case .signal(let number): return "signal \(number)\n"
        }
    }

    /// Parses the pipe's content; unknown lines are kept as setup failures so nothing is lost.
    public static func parse(_ text: String) -> [InitReport] {
        text.split(separator: "\n").map { line in
            if line.hasPrefix("setup ") { return .setup(String(line.dropFirst(6))) }
            if line.hasPrefix("exec ") { return .exec(String(line.dropFirst(5))) }
            if line.hasPrefix("signal "), let number = Int32(line.dropFirst(7)) { return .signal(number) }
            return .setup(String(line))
        }
    }

    /// Formats a failure the way the parent expects it.
    public static func describe(_ stage: String, errno code: Int32) -> String {
        "\(stage): \(Errno.message(code)) (\(Errno.name(code)))"
    }

    /// The errno named at the end of `stage: message (ERRNO)`, if it is one devenv knows.
    public static func errno(in text: String) -> Int32? {
        guard text.hasSuffix(")"), let open = text.lastIndex(of: "(") else { return nil }
        let name = text[text.index(after: open)..<text.index(before: text.endIndex)]
        return (1...200).first { Errno.name(Int32($0)) == name }.map(Int32.init)
    }

    static func singleLine(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n")
    }
}
