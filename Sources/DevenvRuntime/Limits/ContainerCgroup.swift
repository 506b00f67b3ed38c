import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// The host's cgroup facts, asked of the kernel.
struct LiveCgroupHost: CgroupHostFacts {
    static let cgroup2Magic: Int64 = 0x6367_7270
    static let cgroup1Magic: Int64 = 0x0027_e0eb

    func read(_ path: String) -> String? { FileDescriptor.readSystemText(path) }
    func isWritable(_ path: String) -> Bool { access(path, W_OK) == 0 }
    func isMounted(_ path: String, version: CgroupVersion) -> Bool {
        FileSystemInfo.type(of: path) == (version == .v2 ? Self.cgroup2Magic : Self.cgroup1Magic)
    }
    var uid: UInt32 { geteuid() }
}

/// One container's cgroup(s), created from a `CgroupPlan`: init is moved in before it is
/// released (so every process of the container starts inside), and on `destroy` whatever is
/// left is killed and the cgroup removed.
final class ContainerCgroup: @unchecked Sendable {
    let plan: CgroupPlan
    private var created: [String] = []

    private init(plan: CgroupPlan) { self.plan = plan }

    /// `devenv-<pid>-<random>`: the pid lets a later devenv remove what a SIGKILLed one left.
    static func uniqueName() -> String {
        "devenv-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Enables the controllers, creates the cgroups and writes the limits; removes what it
    /// made when a step fails.
    static func create(_ plan: CgroupPlan) throws -> ContainerCgroup {
        let cgroup = ContainerCgroup(plan: plan)
        do {
            for write in plan.setup { try Self.write(write) }
            for directory in plan.directories {
                removeStale(besides: directory)
                guard mkdir(directory, 0o755) == 0 else { throw SystemError.last("create cgroup", path: directory) }
                cgroup.created.append(directory)
            }
            for write in plan.limits { try Self.write(write) }
        } catch {
            cgroup.destroy()
            throw error
        }
        return cgroup
    }

    /// What the spawn needs to start init inside the cgroup without moving it afterwards:
    /// v1 `tasks` files (init writes "0" to each, a self-move that takes no global lock),
    /// or the v2 directory for clone3(CLONE_INTO_CGROUP).
    struct Entry {
        var taskFiles: [Int32] = []
        var directory: Int32 = -1

        func close() {
            for descriptor in taskFiles + [directory] where descriptor >= 0 { _ = Glibc.close(descriptor) }
        }
    }

    func openEntry() throws -> Entry {
        try Self.entry(version: plan.version, directories: plan.directories)
    }

    /// The entry into the existing cgroups `directories` of a running environment, for a
    /// joining session: its version is the one of the filesystem they are on. Moving the
    /// session from here instead (a pid written to `cgroup.procs`) takes the global
    /// threadgroup lock and waits for an RCU grace period, which cost a joined start 10-40 ms.
    static func entry(joining directories: [String]) throws -> Entry {
        guard let first = directories.first else { return Entry() }
        let version: CgroupVersion = FileSystemInfo.type(of: first) == LiveCgroupHost.cgroup2Magic ? .v2 : .v1
        return try entry(version: version, directories: directories)
    }

    private static func entry(version: CgroupVersion, directories: [String]) throws -> Entry {
        var entry = Entry()
        do {
            switch version {
            case .v1:
                for directory in directories {
                    entry.taskFiles.append(try FileDescriptor.openRaw(directory + "/tasks", O_WRONLY))
                }
            case .v2:
                entry.directory = try FileDescriptor.openRaw(directories[0], O_PATH | O_DIRECTORY)
            }
        } catch {
            entry.close()
            throw error
        }
        return entry
    }

    /// Moves `pid` (init, still waiting for end of input) into every cgroup of the plan: only
    /// where the spawn could not start it inside (v2 without clone3).
    func add(_ pid: pid_t) throws {
        for directory in plan.directories {
            try Self.write(CgroupWrite(path: directory + "/cgroup.procs", value: "\(pid)"))
        }
    }

    /// Removes the cgroups. Normally init has exited and the kernel has already killed the
    /// rest of its pid namespace, so rmdir succeeds at once; otherwise everything inside is
    /// killed first. A freezer is not needed: the processes belong to a pid namespace whose
    /// init is gone or being killed, and such a namespace refuses new processes.
    func destroy() {
        for directory in created.reversed() where rmdir(directory) != 0 {
            guard errno == EBUSY else { continue }
            killEverything(in: directory)
            var attempts = 0
            while rmdir(directory) != 0 && errno == EBUSY && attempts < 2000 {
                if attempts % 10 == 0 { killEverything(in: directory) }
                usleep(1000)
                attempts += 1
            }
        }
        created = []
    }

    private func killEverything(in directory: String) {
        if plan.version == .v2, (try? Self.write(CgroupWrite(path: directory + "/cgroup.kill", value: "1"))) != nil { return }
        for line in (FileDescriptor.readSystemText(directory + "/cgroup.procs") ?? "").split(separator: "\n") {
            if let pid = pid_t(line), pid > 0 { kill(pid, SIGKILL) }
        }
    }

    static func write(_ write: CgroupWrite) throws {
        let descriptor: Int32
        do {
            descriptor = try FileDescriptor.openRaw(write.path, O_WRONLY)
        } catch let error as SystemError where write.optional && error.errno == ENOENT {
            return
        }
        defer { close(descriptor) }
        let bytes = Array(write.value.utf8)
        let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard count == bytes.count else { throw SystemError.last("write \(write.value) to", path: write.path) }
    }

    /// Removes empty `devenv-<pid>-*` siblings whose devenv no longer exists (it was SIGKILLed
    /// before it could clean up; its container died with it).
    private static func removeStale(besides directory: String) {
        guard let slash = directory.lastIndex(of: "/") else { return }
        let parent = String(directory[..<slash])
        guard let stream = opendir(parent) else { return }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = stalePid(name), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            _ = rmdir(parent + "/" + name)
        }
    }

    static func stalePid(_ name: String) -> pid_t? {
        let parts = name.split(separator: "-")
        guard parts.count == 3, parts[0] == "devenv" else { return nil }
        return pid_t(parts[1])
    }
}
