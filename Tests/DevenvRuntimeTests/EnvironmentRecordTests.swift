@testable import DevenvRuntime
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The record's identity of a running environment's init, without privileges.
struct EnvironmentRecordTests {
    @Test func startTimeIsCountedAfterTheCommandName() {
        // A command name may hold spaces and ')'; field 22 is still the 20th after the last ')'.
        let fields = (3...30).map { $0 == 22 ? "987654" : "\($0)" }
        #expect(ProcessStamp.startTime(fromStat: "42 (a) b) c) " + ["S"].joined() + " " + fields.dropFirst().joined(separator: " ")) == 987654)
        #expect(ProcessStamp.startTime(fromStat: "42 (sleep) Z " + fields.dropFirst().joined(separator: " ")) == nil, "a zombie is not alive")
        #expect(ProcessStamp.startTime(fromStat: "42 (sleep) S 1 2") == nil)
        #expect(ProcessStamp.startTime(fromStat: "garbage") == nil)
    }

    @Test func ownProcessIsAliveAndAnotherBootIsNot() throws {
        let own = try #require(ProcessStamp.current(getpid()))
        #expect(own.isAlive)
        #expect(!own.bootID.isEmpty)
        var rebooted = own
        rebooted.bootID = "00000000-0000-0000-0000-000000000000"
        #expect(!rebooted.isAlive, "a record from before a reboot is stale even when its pid is in use")
        var reused = own
        reused.startTime += 1
        #expect(!reused.isAlive, "a reused pid is another process")
    }

    @Test func namesAreFileNames() {
        for name in ["default", "web-2", "a.b_c"] { #expect(EnvironmentRequest.validName(name), "\(name)") }
        for name in ["", ".hidden", "-x", "a/b", "..", "é", String(repeating: "a", count: 65)] {
            #expect(!EnvironmentRequest.validName(name), "\(name)")
        }
    }

    /// A stale record (its init gone) is removed and never reported as running.
    @Test func staleRecordIsRemoved() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("devenv-env-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var stamp = try #require(ProcessStamp.current(getpid()))
        stamp.bootID = "00000000-0000-0000-0000-000000000000"
        let environments = EnvironmentDirectory(path: directory)
        try environments.save(EnvironmentRecord(name: "default", project: "/p", image: "i", imageDigest: "sha256:0", started: 0,
                                                initProcess: stamp, detached: true))
        #expect(environments.names() == ["default"])
        #expect(environments.running().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/default.json"))
    }
}
