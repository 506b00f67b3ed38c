@testable import DevenvRuntime
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 item 5 inside real containers: a 32-bit program cannot reach AF_VSOCK (or any
/// family the filter refuses) through socketcall(2) or the direct i386 socket(2), while its
/// AF_INET and AF_UNIX sockets made with the direct call, and socketpair, still work.
@Suite(.enabled(if: Requirement.root(), "needs root and gcc-multilib (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct I386SocketTests {
    /// The probe built with -m32 (gcc-multilib), static, into a directory all can read.
    static func probe32() throws -> String {
        try Fixture.makeBase()
        let binary = Fixture.base + "/probe32"
        let lock = try FileLockHolder(path: binary + ".lock")
        defer { lock.release() }
        let source = Fixture.packageRoot + "/Tests/Fixtures/probe/probe.c"
        var built = stat(), written = stat()
        if stat(binary, &built) == 0, stat(source, &written) == 0, built.st_mtim.tv_sec >= written.st_mtim.tv_sec { return binary }
        try Fixture.shell("gcc -m32 -static -O2 -pthread -o '\(binary).tmp' '\(source)' && chmod 755 '\(binary).tmp' && mv '\(binary).tmp' '\(binary)'")
        return binary
    }

    static let refused = ["sys.socketcall_vsock", "sys.socketcall_inet", "sys.socket_vsock", "sys.socket_alg"]
    static let working = ["sys.socket_inet", "sys.socket_unix", "sys.socketcall_socketpair"]

    static func check(_ output: String) {
        let values = ProbeTests.values(output)
        #expect(values["abi"] == "i386")
        #expect(values["Seccomp"] == "2")
        for row in refused { #expect(values[row] == "EPERM", "\(row)=\(values[row] ?? "missing")") }
        for row in working { #expect(values[row] == "OK", "\(row)=\(values[row] ?? "missing")") }
    }

    @Test func asContainerRoot() throws {
        try Fixture.requireRoot()
        let workspace = try Fixture.temporaryDirectory()
        defer { Fixture.remove(workspace) }
        try Fixture.shell("cp '\(try Self.probe32())' '\(workspace)/probe32'")
        var spec = Fixture.spec(["/workspace/probe32", "--syscalls"], workspace: workspace, rootfs: try Fixture.busyboxRootfs())
        spec.seccomp = try SeccompFilter.dockerDefault()
        let result = try Fixture.runner().capture(spec)
        #expect(result.status == .exited(0), "\(result.stderr)")
        Self.check(result.stdout)
    }

    @Test func asTheRootlessUser() throws {
        let user = try TestUser.ensure()
        let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
        defer { Fixture.remove(workspace) }
        try Fixture.shell("cp '\(try Self.probe32())' '\(workspace)/probe32' && chown \(user.uid):\(user.gid) '\(workspace)/probe32'")
        let rootfs = try Fixture.busyboxRootfs(owner: user.subordinateUID)
        let result = try user.devenv(["run", "--rootfs", rootfs, "--no-tty", "--network", "none", "--", "/workspace/probe32", "--syscalls"],
                                     directory: workspace).wait()
        #expect(result.status == 0, "\(result.stderr)")
        Self.check(result.stdout)
    }
}
