@testable import DevenvRuntime
import DevenvSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The mount loop (`MountExecutor` running a real `MountPlan`) without root: mounts go to a
/// recorder, everything else (in-root opens, mount points, generated files, accounts) is
/// real, in a scratch directory standing for the new root. The image's symlinks try to lead
/// binds out of it.
@Suite struct MountExecutorTests {
    final class Layout {
        let base: String
        var scratch: String { base + "/run" }
        var rootfs: String { scratch + "/rootfs" }
        var project: String { base + "/project" }
        var cache: String { base + "/cache" }
        var spec: ContainerSpec {
            ContainerSpec(rootfs: RootfsSpec(lowerDirs: [base + "/lower"]),
                          mounts: [BindMount(source: project, destination: "/workspace"), BindMount(source: cache, destination: "/cache", readOnly: true)],
                          process: ProcessSpec(args: ["sh"], user: ContainerUser(uid: getuid(), gid: getgid(), name: "tester", home: "/home/tester")))
        }

        init() throws {
            // Not under Fixture.base: the suite needs no privilege and runs as any user.
            var template = Array("/tmp/devenv-mount-executor-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw SystemError.last("mkdtemp", path: "/tmp") }
            base = String(cString: made)
            for directory in [base + "/lower", scratch, rootfs, project, cache, rootfs + "/proc", rootfs + "/proc/acpi", rootfs + "/proc/sys"] {
                guard mkdir(directory, 0o755) == 0 else { throw SystemError.last("mkdir", path: directory) }
            }
            // The image's attempts to leave its root: an absolute symlink and one climbing with `..`.
            guard symlink("/etc", rootfs + "/workspace") == 0, symlink("../../../../../../../tmp", rootfs + "/cache") == 0,
                  FileManager.default.createFile(atPath: rootfs + "/proc/kcore", contents: nil) else {
                throw SystemError.last("populate", path: rootfs)
            }
        }

        deinit { Fixture.remove(base) }

        func r(_ path: String) -> String { rootfs + path }

        func run(_ calls: RecordingMountCalls) throws {
            let plan = try MountPlan.compute(spec, scratch: scratch, resolvConf: "nameserver 10.0.0.1\n", hosts: "127.0.0.1\tlocalhost\n")
            var executor = MountExecutor(plan: plan, calls: calls)
            try executor.run()
        }
    }

    typealias Call = RecordingMountCalls.Call

    @Test func runsThePlanInOrderWithEveryTargetInsideTheRoot() throws {
        let layout = try Layout()
        let calls = RecordingMountCalls()
        try layout.run(calls)
        let r = layout.r
        let shm = (layout.spec.limits.shmSize + 1023) / 1024
        var expected: [Call] = [
            .mount(source: nil, target: "/", type: nil, flags: [.recursive, .private], data: nil),
            .mount(source: "tmpfs", target: layout.scratch, type: "tmpfs", flags: [.noSuid, .noDev], data: "mode=0700"),
            .overlay(lower: [layout.base + "/lower"], upper: layout.scratch + "/upper", work: layout.scratch + "/work", userXattr: false,
                     target: layout.rootfs, flags: [.noDev]),
            .mount(source: "proc", target: r("/proc"), type: "proc", flags: [.noSuid, .noDev, .noExec], data: nil),
            .mount(source: "tmpfs", target: r("/dev"), type: "tmpfs", flags: [.noSuid, .noDev], data: "mode=755,size=65536k"),
        ]
        for name in ["null", "zero", "full", "random", "urandom", "tty"] {
            expected.append(.mount(source: "/dev/" + name, target: r("/dev/" + name), type: nil, flags: .bind, data: nil))
        }
        expected += [
            .mount(source: "devpts", target: r("/dev/pts"), type: "devpts", flags: [.noSuid, .noExec], data: "newinstance,ptmxmode=0666,mode=0620,gid=5"),
            .mount(source: "tmpfs", target: r("/dev/shm"), type: "tmpfs", flags: [.noSuid, .noDev, .noExec], data: "mode=1777,size=\(shm)k"),
            .mount(source: "sysfs", target: r("/sys"), type: "sysfs", flags: [.readOnly, .noSuid, .noDev, .noExec], data: nil),
            // `/workspace -> /etc` and `/cache -> ../../…/tmp` resolve inside the root.
            .mount(source: layout.project, target: r("/etc"), type: nil, flags: [.bind, .recursive], data: nil),
            .restrict(target: r("/etc"), flags: [.noSuid, .noDev]),
            .mount(source: layout.cache, target: r("/tmp"), type: nil, flags: [.bind, .recursive], data: nil),
            .restrict(target: r("/tmp"), flags: [.readOnly, .noSuid, .noDev]),
        ]
        for name in ["hostname", "hosts", "resolv.conf"] {
            expected.append(.mount(source: layout.scratch + "/files/" + name, target: r("/etc/" + name), type: nil, flags: [.bind, .recursive], data: nil))
        }
        expected += [
            // Only what the image has is masked or made read-only.
            .mount(source: "tmpfs", target: r("/proc/acpi"), type: "tmpfs", flags: [.readOnly, .noSuid, .noDev, .noExec], data: "size=0"),
            .mount(source: "/dev/null", target: r("/proc/kcore"), type: nil, flags: .bind, data: nil),
            .mount(source: r("/proc/sys"), target: r("/proc/sys"), type: nil, flags: [.bind, .recursive], data: nil),
            .restrict(target: r("/proc/sys"), flags: .readOnly),
            .pivotRoot(layout.rootfs),
        ]
        #expect(calls.calls == expected, "\(calls.calls.map(\.description).joined(separator: "\n"))")
        // What needs no privilege really happened, inside the root.
        #expect(try String(contentsOfFile: r("/etc/passwd"), encoding: .utf8).contains("tester:x:\(getuid()):\(getgid()):"))
        #expect(try String(contentsOfFile: layout.scratch + "/files/hostname", encoding: .utf8) == "devenv\n")
        var info = stat()
        #expect(lstat(r("/dev/ptmx"), &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK)
        #expect(stat(r("/home/tester"), &info) == 0 && info.st_uid == getuid())
        // Mount points were made where the image's symlinks lead inside the root.
        #expect(stat(r("/etc/hostname"), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG)
        #expect(stat(r("/tmp"), &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR)
    }

    @Test func aFailedMountStopsThePlanAndNamesWhatFailed() throws {
        let layout = try Layout()
        let calls = RecordingMountCalls()
        calls.fail = { call in
            if case let .mount(source, _, _, _, _) = call, source == layout.project { return EACCES }
            return nil
        }
        let error = try #require(throws: SystemError.self) { try layout.run(calls) }
        #expect(error.errno == EACCES)
        #expect(error.description == "bind \(layout.project) on \(layout.rootfs)/workspace: permission denied (EACCES)")
        // The failed bind is the last call: no restrict on it, no generated file, no pivot_root.
        #expect(calls.calls.last == .mount(source: layout.project, target: layout.r("/etc"), type: nil, flags: [.bind, .recursive], data: nil))
        #expect(!calls.calls.contains(.pivotRoot(layout.rootfs)))
        #expect(!FileManager.default.fileExists(atPath: layout.scratch + "/files/hostname"))
    }

    @Test func refusedSysfsFallsBackToAReadOnlyBindOfTheHosts() throws {
        let layout = try Layout()
        let calls = RecordingMountCalls()
        calls.fail = { call in
            if case let .mount(_, _, type, _, _) = call, type == "sysfs" { return EPERM }
            return nil
        }
        try layout.run(calls)
        let r = layout.r
        let sysfs = try #require(calls.calls.firstIndex { if case .mount(_, _, "sysfs", _, _) = $0 { return true } else { return false } })
        #expect(Array(calls.calls[sysfs...].prefix(3)) == [
            .mount(source: "sysfs", target: r("/sys"), type: "sysfs", flags: [.readOnly, .noSuid, .noDev, .noExec], data: nil),
            .mount(source: "/sys", target: r("/sys"), type: nil, flags: [.bind, .recursive], data: nil),
            .restrict(target: r("/sys"), flags: [.readOnly, .noSuid, .noDev, .noExec]),
        ])
        #expect(calls.calls.last == .pivotRoot(layout.rootfs))
    }

    @Test func devptsRefusingTheTTYGroupIsMountedWithoutIt() throws {
        let layout = try Layout()
        let calls = RecordingMountCalls()
        calls.fail = { call in
            if case let .mount(_, _, "devpts", _, data) = call, data?.contains("gid=") == true { return EINVAL }
            return nil
        }
        try layout.run(calls)
        let devpts = calls.calls.filter { if case .mount(_, _, "devpts", _, _) = $0 { return true } else { return false } }
        #expect(devpts == [
            .mount(source: "devpts", target: layout.r("/dev/pts"), type: "devpts", flags: [.noSuid, .noExec], data: "newinstance,ptmxmode=0666,mode=0620,gid=5"),
            .mount(source: "devpts", target: layout.r("/dev/pts"), type: "devpts", flags: [.noSuid, .noExec], data: "newinstance,ptmxmode=0666,mode=0620"),
        ])
    }
}
