@testable import DevenvTestSupport
import Foundation

/// Small images built from Debian's busybox-static.
enum Fixtures {
    static let applets = ["sh", "ls", "cat", "echo", "true", "false", "id", "touch", "mkdir", "env", "sleep", "stat",
                          "uname", "hostname", "grep", "wc", "head", "kill", "test", "rm", "pwd", "ps", "mount", "tty"]

    /// A busybox root filesystem directory: /bin/busybox, applet links, /etc/passwd.
    static func busyboxRoot(in scratch: Scratch, name: String = "busybox") throws -> String {
        let root = scratch.file("\(name)-root")
        let busybox = ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let busybox else { throw DevenvProcess.Missing(what: "busybox-static (apt-get install busybox-static)") }
        for directory in ["bin", "etc", "tmp", "root", "proc", "sys", "dev", "usr/bin"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: "\(root)/tmp")
        try FileManager.default.copyItem(atPath: busybox, toPath: "\(root)/bin/busybox")
        for applet in applets {
            try FileManager.default.createSymbolicLink(atPath: "\(root)/bin/\(applet)", withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n".write(toFile: "\(root)/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nnogroup:x:65534:\n".write(toFile: "\(root)/etc/group", atomically: true, encoding: .utf8)
        return root
    }

    /// The same tree as a deterministic tarball.
    static func busyboxRootfs(in scratch: Scratch, name: String = "busybox") throws -> String {
        let root = try busyboxRoot(in: scratch, name: name)
        let tarball = scratch.file("\(name)-rootfs.tar")
        let result = try DevenvProcess.run("tar", ["--sort=name", "--mtime=@1700000000", "--owner=0", "--group=0", "--numeric-owner", "-C", root, "-cf", tarball, "."])
        guard result.succeeded else { throw DevenvProcess.Missing(what: "a working tar: \(result.stderr)") }
        return tarball
    }
}

extension Fixtures {
    /// Tests/Fixtures/userns-denied built into `scratch`: `BINARY EPERM|ENOSPC PROGRAM ARGS`,
    /// run as root, runs PROGRAM where creating a user namespace fails with that errno (a
    /// seccomp filter, as a container's; no sysctl changes).
    static func usernsDenied(in scratch: Scratch) throws -> String {
        let source = TestUser.packageRoot + "/Tests/Fixtures/userns-denied/userns-denied.c"
        let binary = scratch.file("userns-denied")
        let built = try DevenvProcess.run("cc", ["-O2", "-o", binary, source])
        guard built.succeeded else { throw DevenvProcess.Missing(what: "a C compiler for \(source): \(built.stderr)") }
        return binary
    }
}
