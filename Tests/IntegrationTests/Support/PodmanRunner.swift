@testable import DevenvTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// podman as a test's `DevenvUser`: root's own, or rootless podman run as the test user with
/// everything of its own in the test's scratch: its storage (so an image it pulls is in that
/// user's storage, not root's), its runtime directory (there is no login session to give it
/// an XDG_RUNTIME_DIR) and the test user's scratch home, with the cgroupfs manager and file
/// events a host without a systemd user session needs. `removeAll()` removes what it made.
struct PodmanRunner {
    let user: DevenvUser
    private let account: TestUser?
    private let home: String?
    /// Rootless: the directory holding `storage/` and `run/`.
    private let directory: String?

    init(_ runner: DevenvRunner, scratch: Scratch) throws {
        user = runner.user
        account = runner.account
        home = runner.home
        guard let account else {
            directory = nil
            return
        }
        try Self.checkRootlessNetwork()
        let directory = scratch.file("podman")
        for part in ["storage", "run"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(part)", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try account.own(directory)
        self.directory = directory
    }

    /// Rootless pods get their network from slirp4netns, which opens /dev/net/tun.
    private static func checkRootlessNetwork() throws {
        try Requirement.require(programs: ["slirp4netns"])
        var info = stat()
        guard stat("/dev/net/tun", &info) == 0, info.st_mode & 0o006 == 0o006 else {
            throw Requirement.Unmet(what: "/dev/net/tun open to every user (mode 0666, as udev makes it) for rootless podman's network; .ci/prepare-host sets it")
        }
    }

    /// Foundation's Process learns that its child ended when a descriptor the child inherited
    /// closes, and the conmon `kube play` leaves running would inherit it too (the test would
    /// wait for the pod to end): podman starts with only its standard descriptors.
    func run(_ arguments: [String]) throws -> Tools.Result {
        let script = #"for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec podman "$@""#
        guard let account, let directory else { return try Tools.execute("bash", ["-c", script, "podman"] + arguments) }
        let global = ["--root", "\(directory)/storage", "--runroot", "\(directory)/run/containers",
                      "--cgroup-manager=cgroupfs", "--events-backend=file"]
        let (program, line) = account.command("/bin/bash", ["-c", script, "podman"] + global + arguments, home: home,
                                              environment: ["XDG_RUNTIME_DIR": "\(directory)/run"])
        return try Tools.execute(program, line)
    }

    /// Rootless: every image, container and pod of this podman's storage, and the pause
    /// process that keeps its user namespace (root's podman is the host's: the test removes
    /// what it made itself).
    func removeAll() {
        guard let account, let directory else { return }
        _ = try? run(["system", "reset", "--force"])
        // Reset ends the pause process; should it not, the one its file names goes, if that
        // pid is still the test user's pause process and not a process that reused the number.
        let pidFile = "\(directory)/run/libpod/tmp/pause.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1,
              (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) == "catatonit\n" else { return }
        var info = stat()
        if stat("/proc/\(pid)", &info) == 0, info.st_uid == account.uid { kill(pid, SIGKILL) }
    }
}
