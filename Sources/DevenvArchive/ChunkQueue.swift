import Foundation

/// A bounded hand-off of byte buffers between one producer thread and one consumer thread,
/// like the pipe between `gzip` and `tar` in `tar -xzf`. A fixed pool of buffers circulates:
/// the producer fills free buffers and publishes them, the consumer reads them and gives them
/// back. Memory stays at `count * capacity` however fast either side runs.
final class ChunkQueue: @unchecked Sendable {
    struct Chunk {
        let index: Int
        let count: Int
    }

    let capacity: Int
    private let storage: [UnsafeMutableRawBufferPointer]
    private let condition = NSCondition()
    private var free: [Int]
    private var filled: [Chunk] = []
    private var filledHead = 0
    private var producerDone = false
    private var producerError: Error?
    private var cancelled = false

    init(count: Int, capacity: Int) {
        self.capacity = capacity
        storage = (0..<count).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64) }
        free = Array(0..<count)
    }

    deinit {
        for buffer in storage { buffer.deallocate() }
    }

    func buffer(_ index: Int) -> UnsafeMutableRawBufferPointer { storage[index] }

    // MARK: producer side

    /// A free buffer, or nil when the consumer cancelled.
    func acquire() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && !cancelled { condition.wait() }
        return cancelled ? nil : free.removeLast()
    }

    func publish(_ index: Int, count: Int) {
        condition.lock()
        filled.append(Chunk(index: index, count: count))
        condition.signal()
        condition.unlock()
    }

    /// Ends the stream, with the producer's error if it failed.
    func finish(error: Error?) {
        condition.lock()
        producerDone = true
        producerError = error
        condition.broadcast()
        condition.unlock()
    }

    // MARK: consumer side

    /// The next filled buffer; nil at the end of the stream. Throws the producer's error.
    func next() throws -> Chunk? {
        condition.lock()
        defer { condition.unlock() }
        while filledHead == filled.count && !producerDone { condition.wait() }
        if filledHead < filled.count {
            let chunk = filled[filledHead]
            filledHead += 1
            if filledHead == filled.count {
                filled.removeAll(keepingCapacity: true)
                filledHead = 0
            }
            return chunk
        }
        if let producerError { throw producerError }
        return nil
    }

    func recycle(_ index: Int) {
        condition.lock()
        free.append(index)
        condition.signal()
        condition.unlock()
    }

    /// Tells the producer to stop; it sees nil from `acquire()`.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A thread whose completion can be awaited. Foundation's Thread has no join.
final class WorkerThread: @unchecked Sendable {
    private let done = NSCondition()
    private var finished = false

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            body()
            done.lock()
            finished = true
            done.broadcast()
            done.unlock()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    func join() {
        done.lock()
        while !finished { done.wait() }
        done.unlock()
    }
}
