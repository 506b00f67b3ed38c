import DevenvArchive
import DevenvBuild
import DevenvOCI
import DevenvStore

/// A build's events for the progress display. The builder reports when a step starts and
/// finishes; that its command runs (a cache miss, with output to follow) is known only when
/// the executor is called, so `executor(_:)` wraps it to say so first: the step's header
/// then stands on its own line before that output.
final class BuildProgress: @unchecked Sendable {
    let explain: Bool
    private var current: (number: Int, total: Int, summary: String)?

    init(explain: Bool) { self.explain = explain }

    /// For the builder's `events`.
    func handle(_ event: BuildEvent) {
        switch event {
        case let .stepStarted(number, total, summary):
            current = (number, total, summary)
            ProgressDisplay.shared.emit(.stepStarted(number: number, total: total, summary: summary))
        case let .stepFinished(outcome):
            ProgressDisplay.shared.emit(.stepFinished(outcome, total: current?.total ?? outcome.number, explain: explain))
            current = nil
        }
    }

    var events: (BuildEvent) -> Void { { [self] in handle($0) } }

    func executor(_ inner: any StepExecutor) -> any StepExecutor { Announcing(inner: inner, progress: self) }

    fileprivate func running() {
        guard let current else { return }
        ProgressDisplay.shared.emit(.stepRunning(number: current.number, total: current.total, summary: current.summary))
    }

    private struct Announcing: StepExecutor {
        let inner: any StepExecutor
        let progress: BuildProgress

        func execute(_ execution: StepExecution) throws -> Int32 {
            progress.running()
            return try inner.execute(execution)
        }

        func runtimeFiles(for execution: StepExecution) throws -> RuntimeFiles { try inner.runtimeFiles(for: execution) }

        func commit(_ commit: UpperCommit, to output: String, options: LayerWriteOptions) throws -> LayerBlob {
            try inner.commit(commit, to: output, options: options)
        }

        func split(_ split: UpperSplit) throws -> [UpperSplit.Part]? { try inner.split(split) }
    }
}

/// Layer unpacking as progress events (`ImageStore.mount`'s callback).
enum Unpacking {
    static func report(_ index: Int, _ count: Int, _ layer: Descriptor) {
        ProgressDisplay.shared.emit(.unpacking(index: index, count: count, layer: layer.digest))
    }
}
