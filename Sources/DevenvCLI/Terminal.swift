import DevenvOCI
import DevenvRegistry
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// All printing goes through here: results to stdout, progress and errors to stderr.
/// Progress is drawn only when stderr is a terminal, so logs and CI output stay clean.
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

    static func note(_ text: String) {
        FileHandle.standardError.write(Data((safe(text) + "\n").utf8))
    }

    /// Text for stderr without a newline (prompts).
    static func prompt(_ text: String) {
        FileHandle.standardError.write(Data(safe(text).utf8))
    }

    /// A one-line status that redraws itself on a terminal and is silent otherwise.
    static func progress(_ text: String) {
        guard stderrIsTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1b}[2K\(Printable.escape(RegistrySecrets.redact(text), limit: 120))".utf8))
    }

    static func endProgress() {
        guard stderrIsTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1b}[2K".utf8))
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
