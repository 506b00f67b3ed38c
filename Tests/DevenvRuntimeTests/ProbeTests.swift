@testable import DevenvRuntime
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The seccomp engineer's static probe (Tests/Fixtures/probe/probe.c) run inside devenv
/// containers with the real Docker default filter: what a process sees from the inside.
@Suite(.enabled(if: Requirement.root(), "needs root and gcc (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct ProbeTests {
    /// The probe built once (static, so any rootfs can run it) into a directory all can read.
    static func probe() throws -> String {
        try Fixture.makeBase()
        let binary = Fixture.base + "/probe"
        let lock = try FileLockHolder(path: binary + ".lock")
        defer { lock.release() }
        let source = Fixture.packageRoot + "/Tests/Fixtures/probe/probe.c"
        var built = stat(), written = stat()
        if stat(binary, &built) == 0, stat(source, &written) == 0, built.st_mtim.tv_sec >= written.st_mtim.tv_sec { return binary }
        try Fixture.shell("gcc -static -O2 -pthread -o '\(binary).tmp' '\(source)' && chmod 755 '\(binary).tmp' && mv '\(binary).tmp' '\(binary)'")
        return binary
    }

    static func values(_ output: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    static let blocked = ["sys.mount", "sys.umount2", "sys.unshare_userns", "sys.clone_newuser", "sys.setns", "sys.keyctl", "sys.add_key",
                          "sys.io_uring_setup", "sys.bpf", "sys.perf_event_open", "sys.userfaultfd", "sys.open_by_handle_at",
                          "sys.kexec_load", "sys.init_module", "sys.reboot", "sys.swapon", "sys.pivot_root", "sys.personality_bsd"]

    @Test func asContainerRoot() throws {
        try Fixture.requireRoot()
        let workspace = try Fixture.temporaryDirectory()
        defer { Fixture.remove(workspace) }
        try Fixture.shell("cp '\(try Self.probe())' '\(workspace)/probe'")
        var spec = Fixture.spec(["/workspace/probe", "--syscalls"], workspace: workspace, rootfs: try Fixture.busyboxRootfs())
        spec.seccomp = try SeccompFilter.dockerDefault()
        let result = try Fixture.runner().capture(spec)
        #expect(result.status == .exited(0), "\(result.stderr)")
        let values = Self.values(result.stdout)
        #expect(values["hostname"] == "devenv")
        #expect(values["pid"] == "2" && values["ppid"] == "1")
        #expect(values["CapBnd"] == "00000000a00425fb" && values["CapEff"] == "00000000a00425fb")
        #expect(values["CapInh"] == "0000000000000000" && values["CapAmb"] == "0000000000000000")
        #expect(values["NoNewPrivs"] == "1" && values["Seccomp"] == "2")
        #expect(values["fds"] == "0,1,2")
        #expect(values["cwd"] == "/workspace")
        for row in Self.blocked { #expect(values[row] == "EPERM", "\(row)=\(values[row] ?? "missing")") }
        #expect(values["sys.clone3"] == "ENOSYS")
        #expect(values["sys.clone"] == "OK")
        #expect(values["sys.personality_query"] == "OK")
    }

    @Test func asTheRootlessUser() throws {
        let user = try TestUser.ensure()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        try Fixture.shell("cp '\(try Self.probe())' '\(workspace)/probe' && chown \(user.uid):\(user.gid) '\(workspace)/probe'")
        let rootfs = try Fixture.busyboxRootfs(owner: user.subordinateUID)
        let result = try user.devenv(["run", "--rootfs", rootfs, "--no-tty", "--network", "none", "--", "/workspace/probe", "--syscalls"],
                                     directory: workspace).wait()
        #expect(result.status == 0, "\(result.stderr)")
        let values = Self.values(result.stdout)
        #expect(values["uid"] == "\(user.uid)" && values["euid"] == "\(user.uid)")
        #expect(values["uid_map"]?.hasPrefix("0 \(user.subordinateUID) ") == true, "\(values["uid_map"] ?? "")")
        #expect(values["CapEff"] == "0000000000000000" && values["CapBnd"] == "00000000a00425fb")
        #expect(values["NoNewPrivs"] == "1" && values["Seccomp"] == "2")
        #expect(values["fds"] == "0,1,2")
        for row in Self.blocked { #expect(values[row] == "EPERM", "\(row)=\(values[row] ?? "missing")") }
        #expect(values["sys.clone3"] == "ENOSYS")
    }
}
