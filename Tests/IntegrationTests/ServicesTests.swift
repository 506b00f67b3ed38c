import DevenvSystem
@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Services end to end, as root and as the unprivileged test user: `devenv up` starts a
/// command service of the environment image and an image service with a named volume, each
/// ready before the next; the host reaches them on loopback; `ps`, `logs`, `down` and
/// `down --volumes`; a task starts what it needs and stops it after; a crash, a port in use,
/// a service that recovers by restarting, and one restarted after every exit until `down`.
@Suite(.serialized, .enabled(if: Requirement.root(), "needs root (real containers, and to act as the test user)"),
       .timeLimit(.minutes(20)))
struct ServicesTests {
    /// A TCP port nothing listens on now.
    static func freePort() throws -> Int {
        let socket = try LoopbackSocket.bind(0)
        defer { close(socket) }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) == 0 }
        }
        guard named else { throw TestFailure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The body 127.0.0.1:port/ answers with (HTTP/1.0 over a plain socket), or nil.
    static func fetch(_ port: Int) -> String? {
        guard let socket = LoopbackSocket.connect(port) else { return nil }
        defer { close(socket) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(socket, request, request.count, 0) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.") && text.contains(" 200 "), let body = text.range(of: "\r\n\r\n") else { return nil }
        return String(text[body.upperBound...])
    }

    static func manifest(web: Int, cache: Int) -> String {
        """
        [base]
        image = "busybox:it"

        [services.web]
        command = "mkdir -p /tmp/www && echo hello-web > /tmp/www/index.html && echo web-starting && exec httpd -f -v -p 127.0.0.1:\(web) -h /tmp/www"
        ports = [\(web)]

        [services.cache]
        image = "busybox:it"
        command = ["sh", "-c", "mkdir -p /data/www; [ -e /data/www/index.html ] || echo $GREETING-$(cat /proc/sys/kernel/random/uuid) > /data/www/index.html; chown -R 65534:65534 /data/www && exec httpd -f -p 127.0.0.1:\(cache) -h /data/www"]
        env = { GREETING = "kept" }
        volumes = ["cachedata:/data"]
        depends_on = ["web"]
        ready = "wget -q -O /dev/null http://127.0.0.1:\(cache)/"


        [tasks]
        fetch = { run = "wget -q -O - http://127.0.0.1:\(web)/", services = ["web"] }
        """
    }

    private func services(_ project: ProjectFixture) throws -> [String: [String: Any]] {
        let listed = try project.devenv(["ps", "--json"])
        #expect(listed.succeeded, "\(listed.stderr)")
        let entries = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
        var byName: [String: [String: Any]] = [:]
        for entry in entries where entry["project"] as? String == project.root {
            if let service = entry["service"] as? [String: Any], let name = entry["name"] as? String { byName[name] = service }
        }
        return byName
    }

    @Test(arguments: DevenvUser.allCases)
    func upPsLogsDownAndVolumes(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let (web, cache) = (try Self.freePort(), try Self.freePort())
        let project = try ProjectFixture(manifest: Self.manifest(web: web, cache: cache), as: user)
        defer { _ = try? project.devenv(["down", "--volumes"]) }

        let up = try project.devenv(["up"])
        try #require(up.succeeded, "\(up.stderr)")
        let lines = up.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0].hasPrefix("web  ready in ") && lines[0].hasSuffix("127.0.0.1:\(web)"), "\(up.stdout)")
        #expect(lines.last?.hasPrefix("cache  ready in ") == true, "dependencies first: \(up.stdout)")
        #expect(Self.fetch(web) == "hello-web\n")
        let first = try #require(Self.fetch(cache))
        #expect(first.hasPrefix("kept-"), "the service's env: \(first)")

        let listed = try services(project)
        #expect(listed["web"]?["state"] as? String == "running" && listed["web"]?["ready"] as? Bool == true, "\(listed)")
        #expect(listed["web"]?["ports"] as? [Int] == [web])
        #expect(listed["cache"]?["state"] as? String == "running", "\(listed)")

        let again = try project.devenv(["up"])
        #expect(again.succeeded && again.stdout.contains("web  already running"), "\(again.stdout)\(again.stderr)")

        let logs = try project.devenv(["logs", "web"])
        #expect(logs.succeeded && logs.stdout.hasPrefix("web-starting\n") && logs.stdout.contains("response:200"), "\(logs.stdout)\(logs.stderr)")
        let tail = try project.devenv(["logs", "--tail", "1", "web"])
        #expect(tail.stdout.split(separator: "\n").count == 1, "\(tail.stdout)")

        // The named volume keeps its data across down and up; down --volumes removes it.
        let down = try project.devenv(["down"])
        #expect(down.succeeded && down.stderr.contains("stopped cache") && down.stderr.contains("stopped web"), "\(down.stderr)")
        #expect(Self.fetch(web) == nil, "nothing listens after down")
        #expect(try services(project).isEmpty)
        #expect(try project.devenv(["up", "cache"]).succeeded)
        #expect(Self.fetch(cache) == first, "the volume's file survived down")
        #expect(Self.fetch(web) == "hello-web\n", "up cache starts what it depends on")
        let removed = try project.devenv(["down", "--volumes"])
        #expect(removed.succeeded && removed.stderr.contains("removed volume cachedata"), "\(removed.stderr)")
        #expect(try project.devenv(["up", "cache"]).succeeded)
        #expect(Self.fetch(cache) != first, "a fresh volume after down --volumes")
    }

    @Test(arguments: DevenvUser.allCases)
    func aTaskStartsWhatItNeedsAndStopsItAfter(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let (web, cache) = (try Self.freePort(), try Self.freePort())
        let project = try ProjectFixture(manifest: Self.manifest(web: web, cache: cache), as: user)
        defer { _ = try? project.devenv(["down", "--volumes"]) }
        let ran = try project.devenv(["run", "fetch"])
        #expect(ran.succeeded && ran.stdout == "hello-web\n", "\(ran.stdout)\(ran.stderr)")
        #expect(ran.stderr.contains("started service web"), "\(ran.stderr)")
        #expect(try services(project).isEmpty, "the task's service stopped with it")
        #expect(Self.fetch(web) == nil)

        // What `up` started stays after the task.
        #expect(try project.devenv(["up", "web"]).succeeded)
        #expect(try project.devenv(["run", "fetch"]).stdout == "hello-web\n")
        #expect(try services(project)["web"]?["state"] as? String == "running")
    }

    @Test(arguments: DevenvUser.allCases)
    func crashesPortsInUseAndRestarts(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let busy = try Self.freePort()
        let project = try ProjectFixture(manifest: """
            [base]
            image = "busybox:it"

            [services.crash]
            command = "echo reading config; echo 'config: bad value' >&2; exit 3"
            ready = "false"

            [services.busy]
            command = "exec sleep 1000"
            ports = [\(busy)]

            [services.noprobe]
            command = "exec sleep 1000"
            ready = ["no-such-probe", "--check"]

            [services.flaky]
            command = "n=$(cat /tmp/n 2>/dev/null || echo 0); echo attempt $n; echo $((n+1)) > /tmp/n; [ $n -ge 2 ] && exec sleep 1000; exit 1"
            restart = "on-failure"
            ready_timeout = 30
            """, as: user)
        defer { _ = try? project.devenv(["down", "--volumes"]) }

        let crashed = try project.devenv(["up", "crash"])
        #expect(crashed.status == 125)
        #expect(crashed.stderr.contains("service 'crash': exited with status 3 before it was ready"), "\(crashed.stderr)")
        #expect(crashed.stderr.contains("| config: bad value") && crashed.stderr.contains("devenv logs crash"), "\(crashed.stderr)")
        #expect(try services(project)["crash"]?["lastExit"] as? String == "exited with status 3")

        let listener = try Self.listener(on: busy)
        defer { close(listener) }
        let inUse = try project.devenv(["up", "busy"])
        #expect(inUse.status == 125 && inUse.stderr.contains("service 'busy': port \(busy) on 127.0.0.1 is already in use"), "\(inUse.stderr)")

        let flaky = try project.devenv(["up", "flaky"])
        #expect(flaky.succeeded, "\(flaky.stderr)")
        #expect(try services(project)["flaky"]?["restarts"] as? Int == 2)
        #expect(try project.devenv(["logs", "flaky"]).stdout == "attempt 0\nattempt 1\nattempt 2\n")

        let noProbe = try project.devenv(["up", "noprobe"])
        #expect(noProbe.status == 125 && noProbe.stderr.contains("service 'noprobe': its ready command cannot run: exec \"no-such-probe\""), "\(noProbe.stderr)")
        #expect(try services(project)["noprobe"] == nil, "a service that failed its start is stopped")

        let unknown = try project.devenv(["up", "nope"])
        #expect(unknown.status == 125 && unknown.stderr.contains("defines no such service (it defines: crash, busy, noprobe, flaky)"), "\(unknown.stderr)")
    }

    /// `restart = "always"` starts a service again after a clean exit too, where `on-failure`
    /// leaves it exited; `ps` counts the restarts; `down` while it waits between two runs ends
    /// it for good: its init is gone and nothing runs it again.
    @Test(arguments: DevenvUser.allCases)
    func alwaysRestartsAfterACleanExitUntilDown(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: """
            [base]
            image = "busybox:it"

            [services.again]
            command = "echo run >> again.txt; sleep 0.5"
            restart = "always"

            [services.once]
            command = "echo run >> once.txt; sleep 0.5"
            restart = "on-failure"
            """, as: user)
        defer { _ = try? project.devenv(["down"]) }
        let runs = { (name: String) -> Int in
            ((try? String(contentsOfFile: "\(project.root)/\(name).txt", encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        let up = try project.devenv(["up"])
        try #require(up.succeeded, "\(up.stderr)")

        // Runs of 0.5 s with pauses of 0.5, 1, 2, 4 s between: after the third run a pause of
        // at least 2 s, in which `down` comes.
        var listed: [String: [String: Any]] = [:]
        var count = 0
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            // The count is the pause's when it is the same before and after the state is read.
            count = runs("again")
            listed = try services(project)
            if count >= 3, count == runs("again"), listed["again"]?["state"] as? String == "restarting" { break }
            usleep(100_000)
        }
        #expect(count >= 3, "started again after each exit 0")
        #expect(listed["again"]?["state"] as? String == "restarting" && listed["again"]?["restarts"] as? Int == count - 1, "\(listed)")
        #expect(listed["again"]?["lastExit"] as? String == "exited with status 0", "\(listed)")
        #expect(runs("once") == 1, "on-failure does not start a clean exit again")
        #expect(listed["once"]?["state"] as? String == "exited" && listed["once"]?["restarts"] as? Int == 0, "\(listed)")
        let table = try project.devenv(["ps"]).stdout
        #expect(table.contains("\tagain\trestarting (\(count - 1) restarts; last: exited with status 0)\t"), "\(table)")

        let entries = (try? JSONSerialization.jsonObject(with: Data(try project.devenv(["ps", "--json"]).stdout.utf8)) as? [[String: Any]]) ?? []
        let pid = try #require(entries.first { $0["project"] as? String == project.root && $0["name"] as? String == "again" }?["pid"] as? Int)
        #expect(Self.isRunning(pid))
        let down = try project.devenv(["down"])
        #expect(down.succeeded && down.stderr.contains("stopped again"), "\(down.stderr)")
        #expect(!Self.isRunning(pid), "the service's init is gone after down")
        #expect(try services(project).isEmpty)
        // Longer than the pause it was in (2 s after the third run): no run came after down.
        usleep(2_500_000)
        #expect(runs("again") == count)
    }

    /// Whether `pid` is a live process: one that exited is gone, or a zombie waiting for
    /// whoever inherited it to reap it.
    static func isRunning(_ pid: Int) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// A listener on 127.0.0.1:port held by the test (the caller closes it).
    static func listener(on port: Int) throws -> Int32 {
        // SO_REUSEADDR, as servers bind: connections in TIME_WAIT on the port do not keep it.
        guard let listener = try? LoopbackSocket.bind(port) else { throw TestFailure("cannot bind 127.0.0.1:\(port)") }
        guard Glibc.listen(listener, 8) == 0 else {
            close(listener)
            throw TestFailure("cannot listen on 127.0.0.1:\(port)")
        }
        return listener
    }

    /// `[shell] network = "private"`: the sessions and the services (a command service and an
    /// image service) share one loopback-only network namespace; the services' ports are
    /// forwarded from the host's loopback, and what listens on the host's loopback is out of
    /// reach inside; `down` leaves nothing listening; a published port in use is refused.
    @Test(arguments: DevenvUser.allCases)
    func aPrivateNetworkIsTheProjectsOwn(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let (web, cache, hostOnly) = (try Self.freePort(), try Self.freePort(), try Self.freePort())
        // Only published ports are reachable from the host: the cache publishes its port here.
        let manifest = Self.manifest(web: web, cache: cache)
            .replacingOccurrences(of: "[services.web]", with: "[shell]\nnetwork = \"private\"\n\n[services.web]")
            .replacingOccurrences(of: "volumes = [\"cachedata:/data\"]", with: "volumes = [\"cachedata:/data\"]\nports = [\(cache)]")
        let project = try ProjectFixture(manifest: manifest, as: user)
        defer { _ = try? project.devenv(["down", "--volumes"]) }
        let hostListener = try Self.listener(on: hostOnly)
        defer { close(hostListener) }

        let up = try project.devenv(["up"])
        try #require(up.succeeded, "\(up.stderr)")
        #expect(Self.fetch(web) == "hello-web\n", "forwarded from the host's loopback")
        #expect(Self.fetch(cache)?.hasPrefix("kept-") == true, "an image service is on the project's network too")

        let inside = try project.devenv(["run", "--", "sh", "-c",
                                         "wget -q -O - http://127.0.0.1:\(web)/; grep -c : /proc/net/dev; grep -o '^ *lo:' /proc/net/dev; "
                                         + "wget -q -T 2 -O /dev/null http://127.0.0.1:\(hostOnly)/ 2>/dev/null && echo host-reached || echo host-unreachable"])
        #expect(inside.succeeded, "\(inside.stderr)")
        #expect(inside.stdout == "hello-web\n1\n    lo:\nhost-unreachable\n", "only lo, the services, and not the host: \(inside.stdout)")

        let down = try project.devenv(["down"])
        #expect(down.succeeded, "\(down.stderr)")
        // The holder notices within two seconds that nothing uses the namespace, and goes.
        var freed = false
        for _ in 0..<50 where !freed {
            if let listener = try? Self.listener(on: web) {
                close(listener)
                freed = true
            } else {
                usleep(200_000)
            }
        }
        #expect(freed, "port \(web) is still held after down")

        let taken = try Self.listener(on: web)
        defer { close(taken) }
        let refused = try project.devenv(["up", "web"])
        #expect(refused.status == 125 && refused.stderr.contains("service 'web': port \(web) on 127.0.0.1 is already in use by another program, so the private network cannot publish it"),
                "\(refused.stderr)")
    }
}
