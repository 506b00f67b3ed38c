import DevenvOCI
import DevenvRegistry
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// All printing goes through here: results to stdout, progress and errors to stderr.
/// Progress goes through `ProgressDisplay` in the mode `--progress` chose (redrawn on a
/// terminal, plain lines in logs, JSON for tools).
///
/// Every message is made `safe` on its way out: whatever it quotes (a Dockerfile value, a
/// reference, a registry's reply) cannot drive the terminal or show a credential, even
/// where the code that built it forgot to escape or redact it.
enum Terminal {
    static let stderrIsTerminal = isatty(STDERR_FILENO) == 1

    /// Credentials redacted, then control characters escaped (text `Printable.escape`d
    /// already passes unchanged, so nothing is escaped twice).
    static func safe(_ text: String) -> String {
        Printable.terminalSafe(RegistrySecrets.redact(text))
    }

    /// Results are data (names, digests, an image's config): escaped, but not redacted.
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((Printable.terminalSafe(text) + "\n").utf8))
    }

    static func printJSON(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(value) {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }

    /// A message for the user, printed above any progress being drawn (an event in
    /// `--progress json`, nothing with `--quiet` unless it is a warning).
    static func note(_ text: String) {
        ProgressDisplay.shared.printLine(safe(text))
    }

    /// An error, always as text: `error:` in red on a terminal unless NO_COLOR is set.
    static func error(_ text: String) {
        ProgressDisplay.shared.clear()
        var message = safe(text)
        if stderrIsTerminal, ProgressDisplay.colorAllowed, let range = message.range(of: "error:") {
            message.replaceSubrange(range, with: "\u{1b}[31merror:\u{1b}[0m")
        }
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Text for stderr without a newline (prompts).
    static func prompt(_ text: String) {
        ProgressDisplay.shared.clear()
        FileHandle.standardError.write(Data(safe(text).utf8))
    }

    /// A transient status line (drawn on a terminal, silent in logs), replaced by the next.
    static func progress(_ text: String) {
        ProgressDisplay.shared.emit(.status(Printable.escape(RegistrySecrets.redact(text), limit: 120)))
    }

    static func endProgress() {
        ProgressDisplay.shared.emit(.statusEnded)
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
