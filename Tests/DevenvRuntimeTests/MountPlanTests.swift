@testable import DevenvRuntime
import DevenvSeccomp
import DevenvSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct MountPlanTests {
    static func spec(mapping: IDMapping? = nil, upper: UpperLayer = .temporary, mounts: [BindMount] = [BindMount(source: "/home/u/project", destination: "/workspace")]) -> ContainerSpec {
        ContainerSpec(rootfs: RootfsSpec(lowerDirs: ["/store/snapshots/b", "/store/snapshots/a"], upper: upper), mounts: mounts,
                      process: ProcessSpec(args: ["sh"], workingDirectory: "/workspace"), idMapping: mapping)
    }

    static let keepID = IDMapping.keepID(uid: 1000, gid: 1000, subordinateUIDs: [SubordinateRange(owner: "u", start: 100000, count: 65536)],
                                         subordinateGIDs: [SubordinateRange(owner: "u", start: 100000, count: 65536)])

    func plan(_ spec: ContainerSpec) throws -> MountPlan {
        try MountPlan.compute(spec, scratch: "/run/devenv", resolvConf: "nameserver 10.0.0.1\n", hosts: "127.0.0.1\tlocalhost\n")
    }

    @Test func rootfulPlanInOrder() throws {
        let plan = try plan(Self.spec())
        #expect(plan.rootfs == "/run/devenv/rootfs")
        let operations = plan.operations
        #expect(Array(operations.prefix(6)) == [
            .makeRootPrivate, .scratchTmpfs(path: "/run/devenv"), .makeScratchDirectory(path: "/run/devenv/rootfs"),
            .makeScratchDirectory(path: "/run/devenv/upper"), .makeScratchDirectory(path: "/run/devenv/work"),
            .overlay(lowerDirs: ["/store/snapshots/b", "/store/snapshots/a"], upperDir: "/run/devenv/upper", workDir: "/run/devenv/work",
                     target: "/run/devenv/rootfs", userXattr: false),
        ])
        #expect(operations.last == .pivotRoot)
        #expect(operations.contains(.device(destination: "/dev/null", major: 1, minor: 3)))
        #expect(operations.contains(.devpts(destination: "/dev/pts", options: "newinstance,ptmxmode=0666,mode=0620,gid=5")))
        #expect(operations.contains(.symlink(destination: "/dev/ptmx", target: "pts/ptmx")))
        #expect(operations.contains(.bind(source: "/home/u/project", destination: "/workspace", readOnly: false)))
        #expect(operations.contains(.generatedFile(name: "resolv.conf", contents: "nameserver 10.0.0.1\n", destination: "/etc/resolv.conf")))
        // /proc before what masks it; masks and read-only paths after every mount, right before pivot_root.
        let proc = try #require(operations.firstIndex(of: .proc(destination: "/proc")))
        let kcore = try #require(operations.firstIndex(of: .mask(path: "/proc/kcore")))
        let sys = try #require(operations.firstIndex(of: .readOnly(path: "/proc/sys")))
        let bind = try #require(operations.firstIndex(of: .bind(source: "/home/u/project", destination: "/workspace", readOnly: false)))
        #expect(proc < bind && bind < kcore && kcore < sys)
        for path in ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/scsi", "/proc/acpi", "/sys/firmware"] {
            #expect(operations.contains(.mask(path: path)))
        }
        for path in ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"] {
            #expect(operations.contains(.readOnly(path: path)))
        }
    }

    /// A pinned source is checked once opened: it must still be the path the planner resolved.
    @Test func pinnedSourcesAreCheckedBeforeTheirBind() throws {
        var pinned = BindMount(source: "/home/u/project/data", destination: "/data")
        pinned.pinned = true
        let operations = try plan(Self.spec(mounts: [pinned])).operations
        let check = try #require(operations.firstIndex(of: .pinnedSource(path: "/home/u/project/data")))
        let bind = try #require(operations.firstIndex(of: .bind(source: "/home/u/project/data", destination: "/data", readOnly: false)))
        #expect(check < bind)
        #expect(!(try plan(Self.spec()).operations.contains { if case .pinnedSource = $0 { return true }; return false }))

        let directory = try FileDescriptor.openRaw("/proc/self", O_PATH)
        defer { close(directory) }
        #expect(throws: SystemError.self) { try MountExecutor<LinuxMountCalls>.requireResolves(directory, to: "/proc/self") }
        let real = "/proc/\(getpid())"
        try MountExecutor<LinuxMountCalls>.requireResolves(directory, to: real)
    }

    @Test func rootlessPlanBindsDevicesAndUsesUserXattrs() throws {
        let operations = try plan(Self.spec(mapping: Self.keepID)).operations
        #expect(operations.contains(.device(destination: "/dev/tty", major: 5, minor: 0)))
        #expect(operations.contains { if case .overlay(_, _, _, _, true) = $0 { return true } else { return false } })
        #expect(operations.contains(.devpts(destination: "/dev/pts", options: "newinstance,ptmxmode=0666,mode=0620,gid=5")))
    }

    @Test func singleMappingLeavesTheTTYGroupOut() throws {
        let operations = try plan(Self.spec(mapping: .single(uid: 1000, gid: 1000))).operations
        #expect(operations.contains(.devpts(destination: "/dev/pts", options: "newinstance,ptmxmode=0666,mode=0620")))
    }

    @Test func keptUpperUsesTheCallersDirectories() throws {
        let operations = try plan(Self.spec(upper: .directory(upper: "/store/tmp/u", work: "/store/tmp/w"))).operations
        #expect(!operations.contains(.makeScratchDirectory(path: "/run/devenv/upper")))
        #expect(operations.contains(.overlay(lowerDirs: ["/store/snapshots/b", "/store/snapshots/a"], upperDir: "/store/tmp/u",
                                             workDir: "/store/tmp/w", target: "/run/devenv/rootfs", userXattr: false)))
        #expect(UpperLayer.directory(upper: "/a", work: "/b").keepsUpper)
        #expect(!UpperLayer.temporary.keepsUpper)
    }

    @Test func mountDestinationsAreNormalised() throws {
        let operations = try plan(Self.spec(mounts: [BindMount(source: "/src", destination: "//data/./x/", readOnly: true)])).operations
        #expect(operations.contains(.bind(source: "/src", destination: "/data/x", readOnly: true)))
    }

    /// A bind below the user's home (a dotfile) used to create the home and its parents as
    /// container root before `.home` ran, which then found the home present: `$HOME` was not
    /// the user's to write in.
    @Test func mountPointsBelowTheHomeAreInDirectoriesTheUserOwns() throws {
        let user = ContainerUser(uid: 1000, gid: 1000, name: "u", home: "/home/u")
        var spec = Self.spec(mapping: Self.keepID, mounts: [BindMount(source: "/w", destination: "/workspace"),
                                                            BindMount(source: "/h/.config/nvim", destination: "/home/u//.config/nvim", readOnly: true),
                                                            BindMount(source: "/h/.bashrc", destination: "/home/u/.bashrc", readOnly: true)])
        spec.process.user = user
        let operations = try plan(spec).operations
        let home = try #require(operations.firstIndex(of: .home(user: user)))
        let config = try #require(operations.firstIndex(of: .userDirectory(path: "/home/u/.config", user: user)))
        let nvim = try #require(operations.firstIndex(of: .bind(source: "/h/.config/nvim", destination: "/home/u/.config/nvim", readOnly: true)))
        let workspace = try #require(operations.firstIndex(of: .bind(source: "/w", destination: "/workspace", readOnly: false)))
        #expect(home < workspace && home < config && config < nvim)
        #expect(operations.filter { if case .userDirectory = $0 { return true } else { return false } }.count == 1, "\(operations)")
        #expect(MountPlan.userDirectories(between: "/home/u", and: "/home/u/a/b/c") == ["/home/u/a", "/home/u/a/b"])
        #expect(MountPlan.userDirectories(between: "/home/u", and: "/home/user/a") == [])
        #expect(MountPlan.userDirectories(between: "/", and: "/a/b") == [], "a user without a home owns nothing on the way")
        #expect(MountPlan.userDirectories(between: "/", and: "/run/secrets/npmrc") == [])
    }

    @Test func theInitPlanCarriesCredentialsAndCapabilities() throws {
        var spec = Self.spec(mapping: Self.keepID)
        spec.process.user = ContainerUser(uid: 1000, gid: 1000, name: "u", home: "/home/u")
        spec.network = .none
        let plan = try InitPlan.make(spec, scratch: "/run/devenv", resolvConf: "", hosts: "", setgroupsAllowed: true)
        let process = try #require(plan.process)
        #expect(process.bounding == 0xa00425fb)
        #expect(process.effective == 0)
        #expect(process.terminalGID == 5)
        #expect(plan.loopbackUp)
        spec.process.user = .root
        #expect(try InitPlan.make(spec, scratch: "/r", resolvConf: "", hosts: "", setgroupsAllowed: true).process?.effective == 0xa00425fb)
    }

    @Test func mountPointsABuildMayFindInItsUpperLayer() {
        var spec = Self.spec(mounts: [BindMount(source: "/cache", destination: "/root/.cache/")])
        #expect(MountPlan.mountPoints(for: spec) == ["/proc", "/dev", "/sys", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/root/.cache", "/root"])
        spec.process.user = ContainerUser(uid: 1000, gid: 1000, name: "u", home: "/home/u")
        #expect(MountPlan.mountPoints(for: spec).last == "/home/u")
    }

    @Test func legacyOverlayOptionsEscapeSeparators() {
        let mount = OverlayMount(lowerDirs: [], upperDir: "", workDir: "", userXattr: true)
        let layers = OverlayMount.Layers(lower: ["/s/a:b", "/s/c,d"], upper: "/u,1", work: "/w\\x")
        #expect(mount.legacyOptions(layers) == "lowerdir=/s/a\\:b:/s/c\\,d,upperdir=/u\\,1,workdir=/w\\\\x,userxattr")
    }

    /// Docker's set without CAP_MKNOD: a device node made in a bind mount is a device on the host.
    @Test func containersNeverGetMknod() {
        #expect(CapabilitySet.containerDefault.bitmask == 0x0000_0000_a004_25fb)
        #expect(!CapabilitySet.containerDefault.contains(.mknod))
        var spec = Self.spec()
        #expect(spec.capabilities == .containerDefault)
        spec.capabilities = .dockerDefault
        #expect(throws: RuntimeError.self) { try SpecValidator.validate(spec) }
    }

    /// Every writable place is nodev, and the allowed devices are binds of the host's nodes.
    @Test func devicePolicyInThePlan() throws {
        let operations = try MountPlan.compute(Self.spec(mounts: [BindMount(source: "/cache", destination: "/c", readOnly: true)]),
                                               scratch: "/run/devenv", resolvConf: "", hosts: "").operations
        #expect(operations.contains(.tmpfs(destination: "/dev", options: "mode=755,size=65536k", flags: [.noSuid, .noDev])))
        let devices = operations.compactMap { operation -> String? in
            if case .device(let destination, _, _) = operation { return destination }
            return nil
        }
        #expect(devices == ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"])
        #expect(MountPlan.bindFlags == [.noSuid, .noDev])
        #expect(MountFlags([.readOnly, .noSuid, .noDev]).optionNames == "ro,nosuid,nodev")
    }

    @Test func hostPathsLongerThanTheKernelTakesAreRefused() {
        let deep = "/" + Array(repeating: String(repeating: "d", count: 200), count: 21).joined(separator: "/")
        let error = caught(RuntimeError.self) { try SpecValidator.validate(Self.spec(mounts: [BindMount(source: deep, destination: "/w")])) }
        #expect(error?.message.contains("is \(deep.utf8.count) bytes long, over the kernel's limit of 4095") == true, "\(String(describing: error))")
        #expect(error?.hint?.contains("--mount-dir") == true)
    }

    @Test func capabilityMaskIsDockers() {
        #expect(CapabilitySet.dockerDefault.bitmask == 0x0000_0000_a804_25fb)
        #expect(CapabilitySet.dockerDefault.capabilities.count == 14)
        #expect(CapabilitySet.dockerDefault.capabilities.first?.name == "CAP_CHOWN")
        #expect(!CapabilitySet.dockerDefault.contains(.sysAdmin))
    }

    @Test func networkFiles() {
        let hosts = NetworkFiles.hosts(hostname: "box", network: .host, hostHosts: "127.0.0.1 localhost\n# c\n10.1.2.3 db.local db\n")
        #expect(hosts == "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tbox\n10.1.2.3 db.local db\n")
        #expect(!NetworkFiles.hosts(hostname: "box", network: .none, hostHosts: "10.1.2.3 db\n").contains("db"))
        #expect(NetworkFiles.resolvConf(network: .host, hostResolvConf: "nameserver 1.1.1.1\n") == "nameserver 1.1.1.1\n")
        #expect(!NetworkFiles.resolvConf(network: .none, hostResolvConf: "nameserver 1.1.1.1\n").contains("nameserver"))
    }
}
