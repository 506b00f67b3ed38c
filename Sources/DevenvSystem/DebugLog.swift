/// What devenv does, for `--debug` and `DEVENV_LOG=debug`: registry requests (the caller
/// redacts credentials), mounts, and how long each phase took, on stderr. Off unless the
/// CLI installs a sink; a message is then never built (an autoclosure behind one check),
/// and the front end installs none, so warm starts pay nothing.
public enum DebugLog {
    public typealias Sink = @Sendable (_ category: String, _ message: String) -> Void

    // Set once while the command line is read, before any other thread starts.
    nonisolated(unsafe) private static var sink: Sink?

    public static var isEnabled: Bool { sink != nil }

    public static func enable(_ newSink: @escaping Sink) { sink = newSink }

    public static func log(_ category: String, _ message: @autoclosure () -> String) {
        guard let sink else { return }
        sink(category, message())
    }

    /// `body`'s result, and a line saying how long `phase` took (also when it throws).
    public static func timed<T>(_ category: String, _ phase: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        guard let sink else { return try body() }
        let start = ContinuousClock.now
        defer { sink(category, "\(phase()): \(milliseconds(since: start)) ms") }
        return try body()
    }

    /// Whole milliseconds since `start`, as every timing line shows them.
    public static func milliseconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let value = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return String(Int(value.rounded()))
    }
}
