@testable import DevenvLaunch
import DevenvRuntime
import Foundation
import Testing

/// The warm record's own rules: a key per invocation, a watched path that notices every
/// change (even one that keeps the size), racy entries, and a bounded directory.
@Suite struct WarmRecordTests {
    func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "devenv-warm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static let base = WarmInvocation(verb: .run, arguments: ["run", "--", "true"], directory: "/p", storeRoot: "/s",
                                     terminal: false, uid: 1000, environment: ["TERM=xterm", "HOME=/h", "XDG_CONFIG_HOME"])

    @Test func everyFieldChangesTheKey() {
        var variants: [WarmInvocation] = []
        var changed = Self.base
        changed.verb = .shell; variants.append(changed)
        changed = Self.base; changed.arguments = ["run", "true"]; variants.append(changed)
        changed = Self.base; changed.arguments = ["run", "--", "tru", "e"]; variants.append(changed)
        changed = Self.base; changed.directory = "/p/sub"; variants.append(changed)
        changed = Self.base; changed.storeRoot = "/t"; variants.append(changed)
        changed = Self.base; changed.terminal = true; variants.append(changed)
        changed = Self.base; changed.uid = 0; variants.append(changed)
        changed = Self.base; changed.environment = ["TERM=dumb", "HOME=/h", "XDG_CONFIG_HOME"]; variants.append(changed)
        changed = Self.base; changed.environment += ["-e A=1"]; variants.append(changed)
        let keys = Set(([Self.base] + variants).map(\.key))
        #expect(keys.count == variants.count + 1)
        #expect(Self.base.key == Self.base.key)
    }

    @Test func onlyProjectLinesHaveAnInvocation() {
        #expect(WarmInvocation.current(arguments: ["run", "--image", "busybox", "--", "true"]) == nil)
        #expect(WarmInvocation.current(arguments: ["run", "--help"]) == nil)
        #expect(WarmInvocation.current(arguments: ["build", "--no-cache"]) == nil)
        #expect(WarmInvocation.current(arguments: ["image", "ls"]) == nil)
        #expect(WarmInvocation.current(arguments: ["run", "--", "true"], environment: ["DEVENV_HOME": "/s"])?.storeRoot == "/s")
        #expect(WarmInvocation.current(arguments: ["build", "--store", "/x"])?.storeRoot == "/x")
        #expect(WarmInvocation.current(arguments: ["build", "--store=/x"])?.storeRoot == "/x")
        // `-e NAME` takes the host's value, which is part of the invocation.
        let a = WarmInvocation.current(arguments: ["run", "-e", "PATH", "--", "true"], environment: ["DEVENV_HOME": "/s"])
        #expect(a?.environment.contains { $0.hasPrefix("-e PATH=") } == true)
    }

    @Test func aWatchedPathNoticesEveryChange() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = "\(directory)/f"
        try "v1\n".write(toFile: file, atomically: false, encoding: .utf8)
        let watched = WatchedPath(file)
        #expect(watched.state != nil && watched.isUnchanged)
        // Same size, written in place: the inode stays, the ctime moves.
        Thread.sleep(forTimeInterval: 0.02)
        try "v2\n".write(toFile: file, atomically: false, encoding: .utf8)
        #expect(!watched.isUnchanged)

        let missing = WatchedPath("\(directory)/none/x")
        #expect(missing.state == nil && missing.isUnchanged)
        try FileManager.default.createDirectory(atPath: "\(directory)/none", withIntermediateDirectories: true)
        try "".write(toFile: "\(directory)/none/x", atomically: false, encoding: .utf8)
        #expect(!missing.isUnchanged)
    }

    /// One string per path: every state (the unknown one's extremes too) and any path (spaces,
    /// newlines, a leading dash) come back as they went; anything else is refused.
    @Test func watchedPathsRoundTripThroughTheirOneStringForm() throws {
        let paths = [WatchedPath(path: "/a b/- c\nd", state: FileState(device: 1, inode: .max, mode: 0o100644, size: 0, mtime: -1, ctime: .max)),
                     WatchedPath(path: "- x", state: nil), WatchedPath(path: "", state: .unknown),
                     WatchedPath(path: "/p", state: FileState(device: 0, inode: 0, mode: 0, size: .min, mtime: .min, ctime: 0))]
        let data = try JSONEncoder().encode(paths)
        #expect(try JSONDecoder().decode([WatchedPath].self, from: data) == paths)
        #expect(String(decoding: try JSONEncoder().encode(paths[1]), as: UTF8.self) == #""- - x""#)
        for bad in [#""""#, #""1 2 3 /p""#, #""1 2 3 4 5 x /p""#, #""1 2 99999999999 4 5 6 /p""#, #""18446744073709551616 2 3 4 5 6 /p""#, "7"] {
            #expect(throws: DecodingError.self, "\(bad)") { try JSONDecoder().decode(WatchedPath.self, from: Data(bad.utf8)) }
        }
    }

    @Test func recentChangesAreRacy() throws {
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        var state = FileState(device: 1, inode: 1, mode: 0o100644, size: 1, mtime: now - 5_000_000_000, ctime: now - 5_000_000_000)
        #expect(!state.isRacy(before: now))
        state.ctime = now - 500_000_000
        #expect(state.isRacy(before: now))
        state.ctime = now + 1_000_000_000
        #expect(state.isRacy(before: now))
    }

    @Test func recordsRoundTripAndStayBounded() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let record = WarmRecord(watched: [WatchedPath("\(root)/x")], required: [root], image: "localhost/devenv/p:1",
                                manifestDigest: "sha256:" + String(repeating: "a", count: 64), outcome: .build(output: "p d\n"))
        record.save(root: root, key: "k")
        #expect(WarmRecord.load(root: root, key: "k") == record)
        #expect(record.isCurrent)
        var gone = record
        gone.required = ["\(root)/missing"]
        #expect(!gone.isCurrent)
        var moved = record
        moved.executables = [WatchedPath(path: "/nonexistent/devenv", state: nil), WatchedPath(path: "/nonexistent/devenv-core", state: nil)]
        #expect(!moved.isCurrent)

        for index in 0..<(WarmRecord.limit + 6) { record.save(root: root, key: "k\(index)") }
        let kept = try FileManager.default.contentsOfDirectory(atPath: "\(root)/warm").filter { $0.hasSuffix(".json") }
        #expect(kept.count == WarmRecord.limit)
        WarmRecord.remove(root: root, key: "k\(WarmRecord.limit + 5)")
        #expect(WarmRecord.load(root: root, key: "k\(WarmRecord.limit + 5)") == nil)
    }
}
