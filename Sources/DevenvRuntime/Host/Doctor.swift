import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Reads the host facts behind `DoctorRules` and really tries the risky parts: an overlay
/// mount, with its upper directory both on the store's filesystem (builds) and on tmpfs
/// (run/shell), inside a throwaway user and mount namespace like a container's.
public struct Doctor {
    public let initExecutable: String
    public let storeRoot: String
    public let identity: HostIdentity
    /// The host's CDI specs (the caller's registry reads YAML too).
    public let cdi: CDIRegistry

    public init(initExecutable: String? = nil, storeRoot: String, identity: HostIdentity = .current(), cdi: CDIRegistry = CDIRegistry()) {
        self.initExecutable = initExecutable ?? ContainerRunner.defaultInitExecutable()
        self.storeRoot = storeRoot
        self.identity = identity
        self.cdi = cdi
    }

    public func run() -> DoctorReport {
        let rootless = !identity.isRoot
        var release = utsname()
        uname(&release)
        let kernel = withUnsafeBytes(of: &release.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var checks = [
            DoctorRules.kernel(release: kernel, rootless: rootless),
            DoctorRules.userNamespaces(rootless: rootless, sysctls: .current(), creating: ProcessControl.userNamespaceCreationErrno),
            overlayCheck(rootless: rootless),
            DoctorRules.subordinateIDs(identity: identity),
            DoctorRules.mappingHelpers(["newuidmap", "newgidmap"].map(helper), identity: identity),
            DoctorRules.seccomp(statusHasSeccomp: FileDescriptor.readSystemText("/proc/self/status")?.contains("\nSeccomp:") ?? false,
                                actionsAvailable: FileDescriptor.readSystemText("/proc/sys/kernel/seccomp/actions_avail")),
        ]
        let cgroupHost = LiveCgroupHost()
        let everything = ResourceLimits(memory: ResourceLimits.minimumMemory, cpus: 1)
        checks.append(DoctorRules.cgroups(all: CgroupPlanner.place(everything, name: "devenv-doctor", facts: cgroupHost),
                                          pidsOnly: CgroupPlanner.place(.default, name: "devenv-doctor", facts: cgroupHost)))
        checks.append(DoctorRules.cdi(cdi))
        return DoctorReport(checks: checks)
    }

    private func helper(_ name: String) -> DoctorRules.Helper {
        guard let path = Subprocess.find(name) else { return DoctorRules.Helper(name: name, path: nil, setuidRoot: false, hasFileCapabilities: false) }
        var info = stat()
        let setuid = stat(path, &info) == 0 && info.st_uid == 0 && (info.st_mode & S_ISUID) != 0
        let capabilities = FileSystemInfo.hasAttribute("security.capability", at: path)
        return DoctorRules.Helper(name: name, path: path, setuidRoot: setuid, hasFileCapabilities: capabilities)
    }

    /// rm -rf that also enters the mode-000 `work/work` directory overlayfs leaves behind.
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            chmod(path, 0o700)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    private func overlayCheck(rootless: Bool) -> DoctorCheck {
        let name = "overlayfs"
        let base = storeRoot + "/tmp/doctor-\(getpid())"
        defer { Self.removeTree(base) }
        do {
            try FileManager.default.createDirectory(atPath: storeRoot + "/tmp", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for directory in [base, base + "/lower", base + "/upper", base + "/work"] {
                guard mkdir(directory, 0o700) == 0 || errno == EEXIST else { throw SystemError.last("mkdir", path: directory) }
            }
            let runner = ContainerRunner(initExecutable: initExecutable)
            let scratch = runner.runtimeDirectory
            try runner.probe([
                .makeRootPrivate, .scratchTmpfs(path: scratch),
                .makeScratchDirectory(path: scratch + "/a"),
                .overlay(lowerDirs: [base + "/lower"], upperDir: base + "/upper", workDir: base + "/work", target: scratch + "/a", userXattr: rootless),
                .makeScratchDirectory(path: scratch + "/b"), .makeScratchDirectory(path: scratch + "/upper"), .makeScratchDirectory(path: scratch + "/work"),
                .overlay(lowerDirs: [base + "/lower"], upperDir: scratch + "/upper", workDir: scratch + "/work", target: scratch + "/b", userXattr: rootless),
            ], userNamespace: rootless)
            let namespace = rootless ? "in a user namespace, " : ""
            return DoctorCheck(name, .ok, "mounted \(namespace)upper on the store (\(storeRoot)) and on tmpfs; xattrs \(OverlayXattrPrefix.current.rawValue)*")
        } catch let error as RuntimeError {
            return DoctorCheck(name, .error, error.message, fix: error.hint)
        } catch {
            return DoctorCheck(name, .error, "\(error)")
        }
    }
}
