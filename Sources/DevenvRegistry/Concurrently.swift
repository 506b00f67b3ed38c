import Dispatch
import Foundation

/// Runs work items on a few threads at once. The first failure cancels the shared flag so
/// the other transfers stop promptly, and is what the caller gets.
enum Concurrently {
    static func forEach<T: Sendable>(_ items: [T], width: Int, cancellation: CancellationFlag,
                                     _ body: @escaping @Sendable (T) throws -> Void) throws {
        guard !items.isEmpty else { return }
        let state = State()
        let group = DispatchGroup()
        for _ in 0..<max(1, min(width, items.count)) {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                while let index = state.next(limit: items.count) {
                    if cancellation.error != nil { return }
                    do {
                        try body(items[index])
                    } catch {
                        let registryError = error as? RegistryError ?? RegistryError(.store, "", "\(error)")
                        state.record(registryError)
                        cancellation.cancel(registryError)
                        return
                    }
                }
            }
        }
        group.wait()
        if let error = state.firstError { throw error }
    }

    private final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var index = 0
        private var error: RegistryError?

        func next(limit: Int) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard index < limit, error == nil else { return nil }
            index += 1
            return index - 1
        }

        func record(_ failure: RegistryError) {
            lock.lock()
            // Keep the root cause, not the "stopped because" of the siblings.
            if error == nil || (error?.kind == .cancelled && failure.kind != .cancelled) { error = failure }
            lock.unlock()
        }

        var firstError: RegistryError? {
            lock.lock()
            defer { lock.unlock() }
            return error
        }
    }
}
