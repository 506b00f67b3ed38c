import DevenvBuild
import DevenvOCI
import DevenvRegistry

/// Everything a command reports while it works. Lower modules emit their own events
/// (`TransferEvent`, `BuildEvent`, unpack callbacks); the CLI turns them into these, and
/// `ProgressRenderer` turns these into lines.
enum ProgressEvent: Sendable {
    enum Direction: String, Sendable { case pull, push }

    /// A message for the user (a note, a warning).
    case message(String)
    /// A transient activity ("importing x"), replaced by the next.
    case status(String)
    case statusEnded
    case transfer(Direction, TransferEvent)
    /// Every blob of the pull or push is done: its summary replaces the per-layer lines.
    case transfersEnded(Direction)
    case unpacking(index: Int, count: Int, layer: Digest)
    case stepStarted(number: Int, total: Int, summary: String)
    /// The step missed the cache and its command runs now: its output follows.
    case stepRunning(number: Int, total: Int, summary: String)
    case stepFinished(StepOutcome, total: Int, explain: Bool)
}

/// How progress is shown (`--progress`).
enum ProgressMode: String, CaseIterable, Sendable {
    /// A terminal on stderr gets `tty`, anything else `plain`.
    case auto
    /// Redrawn in place: one line per active layer, the current step.
    case tty
    /// Lines only, for logs: step headers, results with times, transfer summaries.
    case plain
    /// One JSON object per line on stderr, for tools (docs/progress.md has the schema).
    case json
}
