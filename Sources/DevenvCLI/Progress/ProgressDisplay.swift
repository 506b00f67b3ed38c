import DevenvOCI
import DevenvRegistry
import DevenvRuntime
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where progress goes: stderr, drawn by a `ProgressRenderer` in the mode `--progress` chose.
/// Events arrive from several threads (parallel layer downloads), so everything runs under
/// one lock. On a terminal the live block is redrawn at most ten times a second, and the
/// width is read again (TIOCGWINSZ) at every redraw, so a resize (SIGWINCH) takes effect at
/// the next one without a signal handler that a container started later would inherit.
final class ProgressDisplay: @unchecked Sendable {
    static let shared = ProgressDisplay()

    private let lock = NSLock()
    private var renderer: ProgressRenderer
    private var quiet = false
    /// The lines of the live block on screen, as drawn (to know how many rows they take).
    private var drawn: [String] = []
    private var lastDraw = 0.0
    private let clock = Date()

    private init() {
        renderer = ProgressRenderer(style: Self.style(for: .auto), width: Self.terminalWidth() ?? 80)
    }

    /// `--progress` and `--quiet`, before the command does anything.
    func configure(mode: ProgressMode, quiet: Bool) {
        lock.lock()
        defer { lock.unlock() }
        renderer = ProgressRenderer(style: Self.style(for: mode), width: Self.terminalWidth() ?? 80)
        self.quiet = quiet
    }

    var style: ProgressRenderer.Style {
        lock.lock()
        defer { lock.unlock() }
        return renderer.style
    }

    var isQuiet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return quiet
    }

    /// Whether a step's own output goes to the terminal as it comes (a distro bootstrap's
    /// mmdebstrap): only when progress is drawn there.
    var showsLiveOutput: Bool {
        if case .tty = style, !isQuiet { return true }
        return false
    }

    func emit(_ event: ProgressEvent) {
        lock.lock()
        defer { lock.unlock() }
        if quiet, !Self.passesQuiet(event) { return }
        let now = Date().timeIntervalSince(clock)
        let lines = renderer.handle(event, now: now)
        guard case .tty = renderer.style else {
            write(lines.map { $0 + "\n" }.joined())
            return
        }
        let structural: Bool
        switch event {
        case .transfer(_, .progress): structural = false
        default: structural = true
        }
        if lines.isEmpty, !structural, now - lastDraw < 0.1 { return }
        redraw(adding: lines, now: now)
    }

    /// Text that is not an event (a prompt, a message printed for good): the live block is
    /// taken off the screen first and drawn again after it.
    func printLine(_ text: String) {
        emit(.message(text))
    }

    /// Takes the live block off the screen (before an error message or a container's output).
    func clear() {
        lock.lock()
        defer { lock.unlock() }
        guard case .tty = renderer.style, !drawn.isEmpty else { return }
        write(erase())
        drawn = []
    }

    private static func passesQuiet(_ event: ProgressEvent) -> Bool {
        if case let .message(text) = event { return text.contains("error:") || text.contains("warning:") }
        return false
    }

    private func redraw(adding lines: [String], now: Double) {
        if let width = Self.terminalWidth() { renderer.width = width }
        var text = erase()
        for line in lines { text += line + "\n" }
        let live = renderer.live(now: now)
        for line in live { text += line + "\n" }
        drawn = live
        lastDraw = now
        write(text)
    }

    /// Up over the rows the live block takes at the current width (a narrower terminal may
    /// have wrapped lines drawn before the resize), then clear to the end of the screen.
    private func erase() -> String {
        guard !drawn.isEmpty else { return "" }
        let width = max(1, renderer.width)
        let rows = drawn.reduce(0) { $0 + max(1, ($1.unicodeScalars.count + width - 1) / width) }
        return "\u{1b}[\(rows)A\r\u{1b}[J"
    }

    private func write(_ text: String) {
        guard !text.isEmpty else { return }
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func style(for mode: ProgressMode) -> ProgressRenderer.Style {
        switch mode {
        case .plain: return .plain
        case .json: return .json
        case .tty: return .tty(color: colorAllowed)
        case .auto: return Terminal.stderrIsTerminal ? .tty(color: colorAllowed) : .plain
        }
    }

    /// https://no-color.org: any non-empty NO_COLOR turns colour off; so does TERM=dumb.
    static var colorAllowed: Bool {
        let environment = ProcessInfo.processInfo.environment
        if let value = environment["NO_COLOR"], !value.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    static func terminalWidth() -> Int? {
        guard let size = TerminalMode.size(of: STDERR_FILENO), size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
