@testable import DevenvRuntime
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The last session out ends its environment without waiting for it (`retire`), and ended
/// records are swept with their cgroups; without privileges: a `sleep` stands in for the
/// environment's init and an empty directory for its cgroup (both go the same way).
struct EnvironmentEndingTests {
    final class Setting {
        let path: String
        let directory: EnvironmentDirectory
        let cgroup: String
        let keeper: Process
        let stamp: ProcessStamp

        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("devenv-ending-\(UUID().uuidString)").path
            directory = EnvironmentDirectory(path: path)
            cgroup = path + "-cgroup"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: cgroup, withIntermediateDirectories: true)
            keeper = Process()
            keeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
            keeper.arguments = ["300"]
            try keeper.run()
            stamp = try #require(ProcessStamp.current(keeper.processIdentifier))
        }

        var request: EnvironmentRequest { EnvironmentRequest(name: "default", project: "/p", image: "i", imageDigest: "sha256:0") }

        func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

        deinit {
            if keeper.isRunning { keeper.terminate() }
            try? FileManager.default.removeItem(atPath: path)
            rmdir(cgroup)
        }
    }

    @Test func lastSessionOutEndsWithoutLeavingAnythingToJoin() throws {
        let setting = try Setting()
        let started = StartedContainer(initProcess: setting.stamp, cgroups: [setting.cgroup])
        let first = try #require(try setting.directory.enter(setting.request, start: { started }))
        #expect(!first.joined)
        let second = try #require(try setting.directory.enter(setting.request, start: nil))
        #expect(second.joined, "a second session joins")
        first.leave()
        #expect(setting.keeper.isRunning, "one session is left, so the environment runs on")
        #expect(setting.files().contains("default.json"))
        second.leave()

        // Right after: nothing to join, even while init may still be going down.
        #expect(try setting.directory.enter(setting.request, start: nil) == nil, "the ended environment is never joined")
        #expect(!setting.files().contains("default.json"))
        setting.keeper.waitUntilExit()
        #expect(setting.keeper.terminationReason == .uncaughtSignal && setting.keeper.terminationStatus == SIGKILL)

        // The next listing finds the record and the cgroup gone.
        #expect(setting.directory.running().isEmpty)
        #expect(!setting.files().contains { $0.hasSuffix(".json") || $0.hasSuffix(".ended") }, "\(setting.files())")
        #expect(!FileManager.default.fileExists(atPath: setting.cgroup), "the cgroup is removed")
    }

    /// A devenv killed between renaming the record and the SIGKILL leaves a live init behind
    /// an ended record: the next sweep kills it and removes what it had.
    @Test func endedRecordOfALiveInitIsKilledAndSwept() throws {
        let setting = try Setting()
        let record = EnvironmentRecord(name: "default", project: "/p", image: "i", imageDigest: "sha256:0", started: 0,
                                       initProcess: setting.stamp, detached: false, cgroups: [setting.cgroup])
        try setting.directory.save(record)
        #expect(rename(setting.directory.recordPath("default"), setting.directory.endedPath(record)) == 0)
        #expect(setting.directory.names().isEmpty, "an ended record names no environment")

        #expect(setting.directory.running().isEmpty)
        setting.keeper.waitUntilExit()
        #expect(setting.keeper.terminationReason == .uncaughtSignal && setting.keeper.terminationStatus == SIGKILL)
        #expect(setting.files().isEmpty, "\(setting.files())")
        #expect(!FileManager.default.fileExists(atPath: setting.cgroup))
    }

    /// A new session's sweep does not wait: it kills a live ended init and leaves its record
    /// for a later sweep, and only removes records whose init is gone.
    @Test func sessionSweepDoesNotWait() throws {
        let setting = try Setting()
        let record = EnvironmentRecord(name: "old", project: "/p", image: "i", imageDigest: "sha256:0", started: 0,
                                       initProcess: setting.stamp, detached: false, cgroups: [setting.cgroup])
        try setting.directory.save(record)
        #expect(rename(setting.directory.recordPath("old"), setting.directory.endedPath(record)) == 0)
        #expect(try setting.directory.enter(setting.request, start: nil) == nil)
        #expect(setting.files().contains { $0.hasSuffix(".ended") }, "killed, not waited for: \(setting.files())")
        setting.keeper.waitUntilExit()
        #expect(setting.keeper.terminationStatus == SIGKILL)
        #expect(try setting.directory.enter(setting.request, start: nil) == nil)
        #expect(!setting.files().contains { $0.hasSuffix(".ended") }, "\(setting.files())")
        #expect(!FileManager.default.fileExists(atPath: setting.cgroup))
    }
}
