import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The running environments of one project: per name, the record (`NAME.json`), a control
/// lock (`NAME.lock`, held exclusively while a session decides to start, join or end the
/// environment, and by `stop`) and a sessions lock (`NAME.sessions`, held shared by every
/// session for its whole life). Locks die with their holders, so the state is always
/// readable: a record whose init is gone (or from before a reboot) is stale and removed; a
/// live one whose sessions lock nobody holds was left by a SIGKILLed devenv, and unless it
/// is detached it is ended. Neither is ever joined.
///
/// The last session out does not wait for its environment to go (`retire`): the record is
/// renamed to an ended record (`NAME.PID-START.ended`, which nothing joins) and init gets
/// SIGKILL; the kernel takes the rest down while devenv exits. The next session or `ps`
/// removes ended records, and their cgroups, once their init is gone (`sweepEnded`).
public struct EnvironmentDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    func recordPath(_ name: String) -> String { "\(path)/\(name).json" }
    func controlPath(_ name: String) -> String { "\(path)/\(name).lock" }
    func sessionsPath(_ name: String) -> String { "\(path)/\(name).sessions" }
    func endedPath(_ record: EnvironmentRecord) -> String {
        "\(path)/\(record.name).\(record.initProcess.pid)-\(record.initProcess.startTime)\(Self.endedSuffix)"
    }

    static let endedSuffix = ".ended"

    /// The names with a record, sorted.
    public func names() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return entries.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.filter(EnvironmentRequest.validName).sorted()
    }

    /// The running environments, after cleaning stale, abandoned and ended records (waiting
    /// for an ended environment that is still going down, so none of it is left after).
    public func running() -> [EnvironmentRecord] {
        let records = names().compactMap { name -> EnvironmentRecord? in
            guard let control = try? FileLock(path: controlPath(name)) else { return nil }
            defer { control.unlock() }
            return try? current(name)
        }
        sweepEnded(waiting: true)
        return records
    }

    /// Enters the environment `request` names as a session: joins it when it runs, else
    /// starts it with `start` and records it (nil `start`: returns nil). The session keeps it
    /// alive until `leave`.
    public func enter(_ request: EnvironmentRequest, start: (() throws -> StartedContainer)?) throws -> EnvironmentSession? {
        try create()
        let name = request.name
        let control = try lock(controlPath(name))
        defer { control.unlock() }
        sweepEnded(waiting: false)
        // Looked at before this session's own shared lock, which would hide an abandoned one.
        let running = try current(name)
        let sessions = try lock(sessionsPath(name), mode: .shared)
        if var record = running {
            if request.detached && !record.detached {
                record.detached = true
                try save(record)
            }
            return EnvironmentSession(directory: self, record: record, joined: true, sessions: sessions)
        }
        guard let start else { return nil }
        let started = try start()
        var record = EnvironmentRecord(name: name, project: request.project, image: request.image, imageDigest: request.imageDigest,
                                       started: Date().timeIntervalSince1970, initProcess: started.initProcess,
                                       detached: request.detached, cgroups: started.cgroups, settings: request.settings)
        record.service = request.service
        record.heldFiles = started.heldFiles.isEmpty ? nil : started.heldFiles
        do {
            try save(record)
        } catch {
            end(record, grace: nil)
            throw error
        }
        return EnvironmentSession(directory: self, record: record, joined: false, sessions: sessions)
    }

    /// Rewrites the record of the running container `record` names (under its control lock);
    /// false when it is no longer the one running.
    @discardableResult
    public func update(_ record: EnvironmentRecord) throws -> Bool {
        let control = try lock(controlPath(record.name))
        defer { control.unlock() }
        guard let current = load(record.name), current.initProcess == record.initProcess else { return false }
        try save(record)
        return true
    }

    public enum StopOutcome: Equatable, Sendable {
        case stopped
        /// SIGTERM did not end everything in time: init was killed.
        case killed
        case notRunning
    }

    /// Sends SIGTERM to every process of the environment `name` (its init passes it on), and
    /// SIGKILL to what is left after `timeout`; the record is removed either way.
    public func stop(_ name: String, timeout: Duration) throws -> StopOutcome {
        let control = try lock(controlPath(name))
        defer { control.unlock() }
        guard let record = try current(name, endingAbandoned: false) else { return .notRunning }
        return end(record, grace: timeout) ? .stopped : .killed
    }

    /// Processes in the environment besides its init (host /proc entries in its pid namespace).
    public static func processCount(_ record: EnvironmentRecord) -> Int {
        guard let own = namespaceInode("/proc/\(record.initProcess.pid)/ns/pid") else { return 0 }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && $0 != "\(record.initProcess.pid)" }
            .filter { namespaceInode("/proc/\($0)/ns/pid") == own }.count
    }

    private static func namespaceInode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    // MARK: - Under the control lock

    /// The live record of `name`, or nil after removing a stale one (and ending an abandoned
    /// one: not detached, and no session holds it).
    func current(_ name: String, endingAbandoned: Bool = true) throws -> EnvironmentRecord? {
        guard let record = load(name) else { return nil }
        guard record.initProcess.isAlive, record.version == EnvironmentRecord.version else {
            remove(record)
            return nil
        }
        if endingAbandoned, !record.detached, let nobody = try FileLock.attempt(path: sessionsPath(name)) {
            nobody.unlock()
            retire(record)
            return nil
        }
        return record
    }

    func load(_ name: String) -> EnvironmentRecord? { load(at: recordPath(name)) }

    private func load(at path: String) -> EnvironmentRecord? {
        guard let bytes = try? FileDescriptor.readRegularFileIfPresent(path, limit: 1 << 20, flags: O_NOFOLLOW) else { return nil }
        return try? JSONDecoder().decode(EnvironmentRecord.self, from: Data(bytes))
    }

    func save(_ record: EnvironmentRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(record), to: recordPath(record.name), mode: 0o600, durable: false)
    }

    /// Ends the environment: SIGTERM and up to `grace` for its processes to go (nil: SIGKILL
    /// at once), then SIGKILL; removes its cgroups and record. True when it ended in time.
    @discardableResult
    func end(_ record: EnvironmentRecord, grace: Duration?) -> Bool {
        var inTime = true
        if let raw = ProcessControl.openPidfd(record.initProcess.pid) {
            let pidfd = FileDescriptor(adopting: raw)
            // The pidfd names this process for good once the stamp matched after opening it.
            if record.initProcess.isAlive {
                if let grace {
                    _ = ProcessControl.signal(pidfd: pidfd.raw, SIGTERM)
                    inTime = Self.wait(pidfd.raw, for: grace)
                }
                if !inTime || grace == nil {
                    _ = ProcessControl.signal(pidfd: pidfd.raw, SIGKILL)
                    _ = Self.wait(pidfd.raw, for: .seconds(10))
                }
            }
        }
        remove(record)
        return inTime
    }

    func remove(_ record: EnvironmentRecord) {
        removeCgroups(record, waiting: true)
        removeHeldFiles(record)
        unlink(recordPath(record.name))
    }

    /// Only once init is gone: a lease removed while its holder runs would let gc take what
    /// the environment uses.
    private func removeHeldFiles(_ record: EnvironmentRecord) {
        guard let files = record.heldFiles, !record.initProcess.isAlive else { return }
        for file in files { unlink(file) }
    }

    /// Ends the environment without waiting for it: once its record is an ended record no
    /// session finds it, so a session that comes next starts a new one; then init gets
    /// SIGKILL. Under the control lock.
    func retire(_ record: EnvironmentRecord) {
        guard rename(recordPath(record.name), endedPath(record)) == 0 else {
            end(record, grace: nil)
            return
        }
        Self.kill(record.initProcess)
    }

    /// Removes the ended records whose init is gone, with their cgroups. An init still
    /// there gets SIGKILL (again: its devenv may have been killed between ending it and
    /// the kill); with `waiting`, up to 10 s to go, else it is left to a later sweep.
    func sweepEnded(waiting: Bool) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for entry in entries where entry.hasSuffix(Self.endedSuffix) && !entry.hasPrefix(".") {
            let file = "\(path)/\(entry)"
            guard let record = load(at: file) else {
                unlink(file)
                continue
            }
            if record.initProcess.isAlive {
                let pidfd = Self.kill(record.initProcess)
                guard waiting, let pidfd else { continue }
                _ = Self.wait(pidfd.raw, for: .seconds(10))
            }
            guard removeCgroups(record, waiting: waiting) else { continue }
            removeHeldFiles(record)
            unlink(file)
        }
    }

    /// SIGKILL to `stamp`'s process, through a pidfd that names it for good once the stamp
    /// matched after opening it; returns the pidfd (nil: the process is gone).
    @discardableResult
    private static func kill(_ stamp: ProcessStamp) -> FileDescriptor? {
        guard let raw = ProcessControl.openPidfd(stamp.pid) else { return nil }
        let pidfd = FileDescriptor(adopting: raw)
        guard stamp.isAlive else { return nil }
        _ = ProcessControl.signal(pidfd: pidfd.raw, SIGKILL)
        return pidfd
    }

    /// rmdir of the environment's cgroups; `waiting` retries while the kernel still empties
    /// them (EBUSY) for up to a second. True when none is left.
    @discardableResult
    private func removeCgroups(_ record: EnvironmentRecord, waiting: Bool) -> Bool {
        var removed = true
        for directory in record.cgroups.reversed() {
            var attempts = 0
            while rmdir(directory) != 0 && errno == EBUSY {
                guard waiting, attempts < 500 else {
                    removed = false
                    break
                }
                usleep(2000)
                attempts += 1
            }
        }
        return removed
    }

    private static func wait(_ pidfd: Int32, for duration: Duration) -> Bool {
        let (seconds, attoseconds) = duration.components
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        var left = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        let deadline = ContinuousClock.now + duration
        while true {
            let ready = poll(&entry, 1, max(left, 0))
            if ready > 0 { return true }
            if ready == 0 { return false }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return false }
            left = Int32(clamping: remaining.components.seconds * 1000 + 1)
        }
    }

    private func create() throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RuntimeError(.setup, "create environment records directory \(Errno.quote(path)): \(error)")
        }
    }

    private func lock(_ path: String, mode: FileLock.Mode = .exclusive) throws -> FileLock {
        do {
            return try FileLock(path: path, mode: mode)
        } catch let error as SystemError {
            throw RuntimeError.setup(error)
        }
    }
}

/// One session in a running environment, holding it alive (the sessions lock, shared).
public final class EnvironmentSession: @unchecked Sendable {
    public let directory: EnvironmentDirectory
    public let record: EnvironmentRecord
    /// Whether the environment was already running (this session joined it).
    public let joined: Bool
    private let sessions: FileLock

    init(directory: EnvironmentDirectory, record: EnvironmentRecord, joined: Bool, sessions: FileLock) {
        self.directory = directory
        self.record = record
        self.joined = joined
        self.sessions = sessions
    }

    public var container: StartedContainer { StartedContainer(initProcess: record.initProcess, cgroups: record.cgroups) }

    /// Ends the session; the last one out ends the environment unless it is detached: at once
    /// without waiting for it to go (`EnvironmentDirectory.retire`), or, given a `grace` (a
    /// service's), with SIGTERM and up to `grace` for its processes to finish.
    public func leave(grace: Duration? = nil) {
        sessions.unlock()
        guard let control = try? FileLock(path: directory.controlPath(record.name)) else { return }
        defer { control.unlock() }
        guard let current = directory.load(record.name), current.initProcess == record.initProcess, !current.detached,
              let nobody = try? FileLock.attempt(path: directory.sessionsPath(record.name)) else { return }
        nobody.unlock()
        if let grace {
            directory.end(current, grace: grace)
        } else {
            directory.retire(current)
        }
    }
}
