@testable import DevenvRuntime
import DevenvTestSupport
import DevenvSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Real containers, started in-process as root with the busybox fixture rootfs.
@Suite(.enabled(if: Requirement.root(), "needs root (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct ContainerRunnerTests {
    func run(_ script: String, network: NetworkMode = .host, workspace: String? = nil, input: [UInt8] = [],
             edit: (inout ContainerSpec) -> Void = { _ in }) throws -> Captured {
        try Fixture.requireRoot()
        let directory = try workspace ?? Fixture.temporaryDirectory()
        defer { if workspace == nil { Fixture.remove(directory) } }
        var spec = Fixture.spec(["sh", "-c", script], workspace: directory, rootfs: try Fixture.busyboxRootfs(), network: network)
        edit(&spec)
        return try Fixture.runner().capture(spec, input: input)
    }

    @Test func exitStatusesPassThrough() throws {
        #expect(try run("exit 42").status == .exited(42))
        let killed = try run("kill -9 $$").status
        #expect(killed == .signaled(SIGKILL))
        #expect(killed.shellCode == 137)
        #expect(try run("true").status == .exited(0))
    }

    @Test func commandFailuresAreDistinct() throws {
        let missing = caught(RuntimeError.self) { _ = try run("") { $0.process.args = ["no-such-command"] } }
        #expect(missing?.kind == .commandNotFound)
        #expect(missing?.message == "exec \"no-such-command\": no such file or directory (ENOENT)")
        let denied = caught(RuntimeError.self) { _ = try run("") { $0.process.args = ["/etc/passwd"] } }
        #expect(denied?.exitCode == 126)
        let workdir = caught(RuntimeError.self) { _ = try run("true") { $0.process.workingDirectory = "/no/such/dir" } }
        #expect(workdir?.kind == .setup)
        #expect(workdir?.message == "chdir /no/such/dir: no such file or directory (ENOENT)")
    }

    @Test func setupErrorsNameStageObjectAndErrno() throws {
        let error = caught(RuntimeError.self) { _ = try run("true") { $0.rootfs.lowerDirs = ["/nonexistent-lower-dir"] } }
        #expect(error?.kind == .setup)
        #expect(error?.message.hasPrefix("mount overlay on /run/devenv/rootfs") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("/nonexistent-lower-dir") == true)
        #expect(error?.message.hasSuffix("(ENOENT)") == true)
        #expect(error?.hint != nil)
        #expect(error?.exitCode == 125)
    }

    @Test func theInsideLooksLikeAContainer() throws {
        let result = try run("""
            echo host=$(hostname); readlink /proc/self/cwd; cat /proc/self/status; echo pid1=$(cat /proc/1/comm)
            echo kcore=$(cat /proc/keys 2>&1 | wc -c) firmware=$(ls /sys/firmware | wc -l)
            (: > /proc/sysrq-trigger) 2>/dev/null && echo sysrq=writable || echo sysrq=denied
            (echo x > /proc/sys/kernel/core_pattern) 2>/dev/null && echo corepattern=writable || echo corepattern=denied
            touch /sys/x 2>/dev/null && echo sys=writable || echo sys=denied
            mount -t tmpfs none /mnt 2>/dev/null && echo mount=allowed || echo mount=denied
            ls /dev | tr '\\n' ' '; echo
            """)
        #expect(result.status == .exited(0), "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("host=devenv"))
        #expect(lines.contains("/workspace"))
        #expect(lines.contains("pid1=devenv"))
        #expect(lines.contains("CapBnd:\t00000000a00425fb"))
        #expect(lines.contains("CapEff:\t00000000a00425fb"))
        #expect(lines.contains("CapInh:\t0000000000000000"))
        #expect(lines.contains("CapAmb:\t0000000000000000"))
        #expect(lines.contains("NoNewPrivs:\t1"))
        #expect(lines.contains("kcore=0 firmware=0"))
        #expect(lines.contains("sysrq=denied"))
        #expect(lines.contains("corepattern=denied"))
        #expect(lines.contains("sys=denied"))
        #expect(lines.contains("mount=denied"))
        #expect(lines.contains { $0.hasPrefix("fd full null ptmx pts random shm stderr stdin stdout tty urandom zero") })
    }

    @Test func mountsAreTheDocumentedOnes() throws {
        let mounts = try run("cat /proc/self/mountinfo").stdout
        let byTarget = Dictionary(mounts.split(separator: "\n").map { line -> (String, String) in
            let fields = line.split(separator: " ")
            let dash = fields.firstIndex(of: "-") ?? fields.endIndex
            return (String(fields[4]), "\(fields[5]) \(dash < fields.endIndex - 1 ? fields[dash + 1] : "")")
        }, uniquingKeysWith: { _, last in last })
        #expect(byTarget["/"]?.hasSuffix(" overlay") == true)
        #expect(byTarget["/proc"]?.hasSuffix(" proc") == true)
        #expect(byTarget["/proc/sys"]?.hasPrefix("ro,") == true)
        #expect(byTarget["/sys"]?.hasPrefix("ro,") == true)
        #expect(byTarget["/dev/pts"]?.hasSuffix(" devpts") == true)
        #expect(byTarget["/dev/shm"]?.contains("noexec") == true)
        #expect(byTarget["/workspace"] != nil)
        #expect(byTarget["/etc/resolv.conf"] != nil)
        // Nothing mounted from outside the container's own tree but what the spec asked for.
        #expect(Set(byTarget.keys).isSubset(of: ["/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/sys", "/workspace", "/etc/hostname",
                                                  "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
                                                  "/etc/hosts", "/etc/resolv.conf", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                  "/proc/sysrq-trigger", "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore",
                                                  "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                                  "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"]),
                "\(byTarget.keys.sorted())")
    }

    @Test func networkNoneHasOnlyLoopbackAndItIsUp() throws {
        let result = try run("ls /sys/class/net; ip link show lo; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo ping=ok", network: .none)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "lo")
        #expect(result.stdout.contains("LOOPBACK,UP"))
        #expect(result.stdout.contains("ping=ok"))
        #expect(try run("grep -c : /proc/net/dev", network: .none).stdout == "1\n")
        #expect(try run("grep -c : /proc/net/dev").stdout != "1\n")
    }

    @Test func noHostDescriptorsLeakIn() throws {
        // Inheritable descriptors in devenv's own process: O_PATH of /, a file, a directory.
        let leaked = [open("/", O_PATH), open("/etc/hostname", O_RDONLY), open("/tmp", O_RDONLY | O_DIRECTORY)]
        defer { for descriptor in leaked { close(descriptor) } }
        #expect(leaked.allSatisfy { $0 > 2 })
        let result = try run("ls /proc/self/fd | tr '\\n' ' '; readlink /proc/self/cwd")
        // 0-2 are stdio and 3 is the directory `ls` itself opened.
        #expect(result.stdout == "0 1 2 3 /workspace\n", "\(result.stdout)")
    }

    @Test(arguments: ["my project", "new\nline", "ünïcødé/日本", "-rf", "a,b:c", "trailing "])
    func oddWorkingTreePaths(name: String) throws {
        try Fixture.requireRoot()
        let parent = try Fixture.temporaryDirectory()
        defer { Fixture.remove(parent) }
        let tree = parent + "/" + name
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        try Data("from host".utf8).write(to: URL(fileURLWithPath: tree + "/in"))
        let result = try run("cat /workspace/in; echo from-container > /workspace/out; pwd", workspace: tree)
        #expect(result.stdout == "from host/workspace\n")
        #expect(String(decoding: FileManager.default.contents(atPath: tree + "/out") ?? Data(), as: UTF8.self) == "from-container\n")
    }

    @Test func aSymlinkedWorkingTreeIsFollowed() throws {
        try Fixture.requireRoot()
        let parent = try Fixture.temporaryDirectory()
        defer { Fixture.remove(parent) }
        try FileManager.default.createDirectory(atPath: parent + "/real", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: parent + "/link", withDestinationPath: "real")
        #expect(try run("touch /workspace/made", workspace: parent + "/link").status == .exited(0))
        #expect(access(parent + "/real/made", F_OK) == 0)
    }

    @Test func stdioIsBinarySafeAndStdinEOFArrives() throws {
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 2654435761 >> 7) }
        let result = try run("cat", input: bytes)
        #expect(result.status == .exited(0))
        #expect(result.stdoutBytes == bytes)
    }

    @Test func theUpperLayerIsDiscardedAndTheImageUntouched() throws {
        let rootfs = try Fixture.busyboxRootfs()
        #expect(try run("echo changed > /etc/passwd; touch /etc/marker; rm /bin/ls").status == .exited(0))
        #expect(try run("test -e /etc/marker || test ! -e /bin/ls").status == .exited(1))
        #expect(access(rootfs + "/etc/marker", F_OK) != 0)
        #expect(access(rootfs + "/bin/ls", F_OK) == 0)
        #expect(try String(contentsOfFile: rootfs + "/etc/passwd", encoding: .utf8).hasPrefix("root:x:0:0"))
    }

    @Test func aKeptUpperDirectoryHoldsTheChanges() throws {
        try Fixture.requireRoot()
        let layers = try Fixture.temporaryDirectory()
        defer { Fixture.remove(layers) }
        try Fixture.shell("mkdir '\(layers)/upper' '\(layers)/work'")
        let result = try run("echo built > /opt-file; rm /bin/ls") { $0.rootfs.upper = .directory(upper: layers + "/upper", work: layers + "/work") }
        #expect(result.status == .exited(0))
        #expect(try String(contentsOfFile: layers + "/upper/opt-file", encoding: .utf8) == "built\n")
        // The removal is recorded as an overlay whiteout (a 0:0 character device).
        var info = stat()
        #expect(lstat(layers + "/upper/bin/ls", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0)
    }

    @Test func seccompFilterIsLoadedLast() throws {
        let result = try run("grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; mkdir /tmp/blocked 2>&1; echo rc=$?") {
            $0.seccomp = SeccompFilter(bytes: TestFilter.denyMkdir)
        }
        #expect(result.stdout.contains("Seccomp:\t2"))
        #expect(result.stdout.contains("NoNewPrivs:\t1"))
        #expect(result.stdout.contains("Operation not permitted"))
        #expect(result.stdout.contains("rc=1"))
    }

    @Test func imageSymlinksCannotRedirectMountsOntoTheHost() throws {
        try Fixture.requireRoot()
        let victim = try Fixture.temporaryDirectory()
        let evil = try Fixture.temporaryDirectory()
        defer {
            Fixture.remove(victim)
            Fixture.remove(evil)
        }
        // A layer whose /escape points at a host directory, and a mount that goes through it.
        try FileManager.default.createSymbolicLink(atPath: evil + "/escape", withDestinationPath: "/../../../.." + victim)
        let source = try Fixture.temporaryDirectory()
        defer { Fixture.remove(source) }
        let result = try run("touch /escape/sub/inside; readlink /escape") {
            $0.rootfs.lowerDirs.insert(evil, at: 0)
            $0.mounts.append(BindMount(source: source, destination: "/escape/sub"))
        }
        #expect(result.status == .exited(0), "\(result.stderr)")
        // The link resolved inside the rootfs: the mount and the file landed there, not on the host.
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim).isEmpty)
        #expect(access(source + "/inside", F_OK) == 0)
    }

    @Test func initReapsOrphansAndKillsLeftovers() throws {
        let result = try run("sh -c 'sleep 0.2 &'; sleep 0.6; grep -h '^State' /proc/[0-9]*/status | sort | uniq -c; sleep 1000 & exit 7")
        #expect(result.status == .exited(7))
        #expect(!result.stdout.contains("zombie"))
    }
}

/// A hand-assembled classic BPF program (the runtime only loads bytes; DevenvSeccomp makes
/// the real ones): mkdir and mkdirat fail with EPERM, everything else is allowed.
enum TestFilter {
    static var denyMkdir: [UInt8] {
        #if arch(x86_64)
        let (architecture, mkdir, mkdirat): (UInt32, UInt32, UInt32) = (0xC000_003E, 83, 258)
        #else
        let (architecture, mkdir, mkdirat): (UInt32, UInt32, UInt32) = (0xC000_00B7, 34, 34)
        #endif
        let program: [(UInt16, UInt8, UInt8, UInt32)] = [
            (0x20, 0, 0, 4),            // ld arch
            (0x15, 0, 4, architecture), // foreign arch: allow
            (0x20, 0, 0, 0),            // ld nr
            (0x15, 1, 0, mkdir),
            (0x15, 0, 1, mkdirat),
            (0x06, 0, 0, 0x0005_0001),  // SECCOMP_RET_ERRNO | EPERM
            (0x06, 0, 0, 0x7fff_0000),  // SECCOMP_RET_ALLOW
        ]
        var bytes: [UInt8] = []
        for (code, jt, jf, k) in program {
            bytes += [UInt8(code & 0xff), UInt8(code >> 8), jt, jf]
            bytes += [UInt8(k & 0xff), UInt8((k >> 8) & 0xff), UInt8((k >> 16) & 0xff), UInt8(k >> 24)]
        }
        return bytes
    }
}
