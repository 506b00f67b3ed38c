@testable import DevenvRuntime
import DevenvSystem
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Container root must not reach the host's disks (issue 11, items 2 and 3): no CAP_MKNOD,
/// nodev on everything writable, setuid ignored in bind mounts, and only the allowlisted
/// devices usable. Real containers as root and as the unprivileged test user, with a real
/// host block device.
@Suite(.enabled(if: Requirement.root(), "needs root (set CI=true to make this a failure instead of a skip)"),
       .timeLimit(.minutes(20)))
struct DevicePolicyTests {
    /// The block device holding the test directory's filesystem, or the first loop device:
    /// a node for it that works would read the host's disk.
    static func hostBlockDevice() throws -> (major: UInt32, minor: UInt32) {
        for candidate in ["/dev/loop0", "/dev/vda", "/dev/sda", "/dev/nvme0n1"] {
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFBLK {
                return (DeviceNumber.major(info.st_rdev), DeviceNumber.minor(info.st_rdev))
            }
        }
        throw FixtureError("no host block device to test with")
    }

    struct Output {
        var succeeded: Bool
        var stdout: String
        var stderr: String
    }

    /// Runs `script` with a fresh working tree at /workspace: as root through the runtime,
    /// rootless through the real `devenv run --rootfs` (user namespace, devices bound from the
    /// host); `check` sees the tree's host path before it is removed.
    func run(_ script: String, as starter: DevenvUser, check: (String) -> Void = { _ in }) throws -> Output {
        switch starter {
        case .root:
            let workspace = try Fixture.temporaryDirectory()
            defer { Fixture.remove(workspace) }
            let result = try run(script, workspace: workspace)
            check(workspace)
            return Output(succeeded: result.status == .exited(0), stdout: result.stdout, stderr: result.stderr)
        case .rootless:
            let user = try TestUser.ensure()
            let workspace = try Fixture.temporaryDirectory(owner: user.uid, group: user.gid)
            defer { Fixture.remove(workspace) }
            let rootfs = try Fixture.busyboxRootfs(owner: user.subordinateUID)
            let result = try user.devenv(["run", "--rootfs", rootfs, "--no-tty", "--", "sh", "-c", script], directory: workspace).wait()
            check(workspace)
            return Output(succeeded: result.status == 0, stdout: result.stdout, stderr: result.stderr)
        }
    }

    func run(_ script: String, workspace: String, extraLower: String? = nil) throws -> Captured {
        try Fixture.requireRoot()
        var spec = Fixture.spec(["sh", "-c", script], workspace: workspace, rootfs: try Fixture.busyboxRootfs())
        if let extraLower { spec.rootfs.lowerDirs.insert(extraLower, at: 0) }
        return try Fixture.runner().capture(spec)
    }

    @Test(arguments: DevenvUser.allCases)
    func containerRootCannotMakeDeviceNodes(_ starter: DevenvUser) throws {
        let (major, minor) = try Self.hostBlockDevice()
        let result = try run("""
            for path in /tmp/disk /dev/disk /dev/shm/disk /workspace/disk; do
                mknod $path b \(major) \(minor) 2>/dev/null && echo "$path=made" || echo "$path=refused"
            done
            """, as: starter) { workspace in
            // Nothing reached the host's working tree that the host user could open.
            #expect(access(workspace + "/disk", F_OK) != 0)
        }
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stdout == "/tmp/disk=refused\n/dev/disk=refused\n/dev/shm/disk=refused\n/workspace/disk=refused\n")
    }

    /// A device node that exists anyway (an image layer's, or one the host put in the working
    /// tree) cannot be opened: every mount it can sit on is nodev.
    @Test func existingDeviceNodesCannotBeOpened() throws {
        let workspace = try Fixture.temporaryDirectory()
        let layer = try Fixture.temporaryDirectory()
        defer {
            Fixture.remove(workspace)
            Fixture.remove(layer)
        }
        let (major, minor) = try Self.hostBlockDevice()
        let device = DeviceNumber.make(major: major, minor: minor)
        #expect(mknod(layer + "/disk", S_IFBLK | 0o666, device) == 0)
        #expect(mknod(layer + "/mem", S_IFCHR | 0o666, DeviceNumber.make(major: 1, minor: 1)) == 0)
        #expect(mknod(workspace + "/disk", S_IFBLK | 0o666, device) == 0)
        chmod(layer + "/disk", 0o666)
        chmod(layer + "/mem", 0o666)
        chmod(workspace + "/disk", 0o666)
        let result = try run("""
            for path in /disk /mem /workspace/disk; do
                dd if=$path of=/dev/null bs=512 count=1 2>/tmp/err && echo "$path=read" || echo "$path=$(grep -o 'Permission denied' /tmp/err)"
            done
            su nobody -s /bin/sh -c 'dd if=/disk of=/dev/null bs=512 count=1' 2>/dev/null && echo nobody=read || echo nobody=denied
            """, workspace: workspace, extraLower: layer)
        #expect(result.status == .exited(0), "\(result.stderr)")
        #expect(result.stdout == "/disk=Permission denied\n/mem=Permission denied\n/workspace/disk=Permission denied\nnobody=denied\n")
    }

    @Test(arguments: DevenvUser.allCases)
    func theAllowedDevicesWork(_ starter: DevenvUser) throws {
        let result = try run("""
            echo discarded > /dev/null && echo null=ok
            echo zero=$(head -c 4 /dev/zero | od -An -tx1 | tr -d ' ')
            echo urandom=$(head -c 16 /dev/urandom | wc -c) random=$(head -c 16 /dev/random | wc -c)
            echo x 2>/dev/null > /dev/full && echo full=written || echo full=ENOSPC
            ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | awk '{print $1, $5, $6}'
            """, as: starter)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stdout == """
            null=ok
            zero=00000000
            urandom=16 random=16
            full=ENOSPC
            crw-rw-rw- 1, 7
            crw-rw-rw- 1, 3
            crw-rw-rw- 1, 8
            crw-rw-rw- 5, 0
            crw-rw-rw- 1, 9
            crw-rw-rw- 1, 5

            """)
    }

    /// Every mount a container can write to carries nodev; bind mounts also nosuid.
    @Test(arguments: DevenvUser.allCases)
    func mountFlagsInside(_ starter: DevenvUser) throws {
        let result = try run("cat /proc/self/mountinfo", as: starter)
        #expect(result.succeeded, "\(result.stderr)")
        var options: [String: Set<String>] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            options[String(fields[4])] = Set(fields[5].split(separator: ",").map(String.init))
        }
        for target in ["/", "/dev", "/dev/shm", "/workspace", "/etc/hosts", "/proc", "/sys"] {
            #expect(options[target]?.contains("nodev") == true, "\(target): \(options[target] ?? [])")
        }
        for target in ["/workspace", "/dev", "/dev/shm", "/etc/hosts"] {
            #expect(options[target]?.contains("nosuid") == true, "\(target): \(options[target] ?? [])")
        }
    }
}
