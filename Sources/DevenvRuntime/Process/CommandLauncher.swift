import DevenvSeccomp
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// The forked child of init that becomes the user's command. Order matters: terminal,
/// bounding set, no_new_privs, groups and ids, capabilities, working directory, descriptors,
/// and seccomp last, immediately before execve.
struct CommandLauncher {
    let process: InitProcess
    let setgroupsAllowed: Bool
    let reporter: Reporter
    let terminal: Int32

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    func exec() -> Never {
        ProcessControl.resetSignals()
        do {
            try attachTerminal()
            try applyResourceLimits()
            try dropPrivileges()
            try enterWorkingDirectory()
        } catch let error as SystemError {
            reporter.failSetup(error)
        } catch {
            reporter.failSetup("\(error)")
        }
        // Every inherited descriptor but stdio closes on exec; the report
        // pipe stays open until then, so an exec failure can still be described.
        FileDescriptor.closeOnExec(from: 3)
        execute()
    }

    private func attachTerminal() throws {
        guard setsid() >= 0 else { throw SystemError.last("setsid") }
        guard terminal >= 0 else { return }
        try TerminalControl.makeControlling(terminal)
        for target: Int32 in 0...2 {
            guard dup2(terminal, target) == target else { throw SystemError.last("dup2 terminal") }
        }
        close(terminal)
    }

    /// Only ever lowers limits, so the order against dropping privileges does not matter.
    private func applyResourceLimits() throws {
        for limit in process.rlimits {
            try ResourceLimit.set(limit.resource, soft: limit.soft, hard: limit.hard)
        }
    }

    private func dropPrivileges() throws {
        let lastCapability = Int(FileDescriptor.readSystemText("/proc/sys/kernel/cap_last_cap")?.split(separator: "\n").first ?? "") ?? 40
        let bounding = process.bounding
        for number in 0...lastCapability where bounding & (1 << UInt64(number)) == 0 {
            try ProcessControl.dropBoundingCapability(number, name: Capability(rawValue: number)?.name ?? "\(number)")
        }
        try ProcessControl.setNoNewPrivileges()
        if setgroupsAllowed {
            try ProcessControl.setGroups(process.additionalGIDs.map { gid_t($0) })
        }
        try ProcessControl.setGroupID(process.gid)
        try ProcessControl.setUserID(process.uid)
        try ProcessControl.setCapabilities(effective: process.effective, permitted: process.effective, inheritable: 0)
        try ProcessControl.clearAmbientCapabilities()
    }

    /// chdir as the user, then check the kernel agrees we are inside the new root: a cwd
    /// outside it reads back as "(unreachable)/..." (CVE-2024-21626).
    private func enterWorkingDirectory() throws {
        guard chdir(process.workingDirectory) == 0 else { throw SystemError.last("chdir", path: process.workingDirectory) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { throw SystemError.last("getcwd", path: process.workingDirectory) }
        let cwd = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard cwd.hasPrefix("/") else { throw SystemError("working directory is outside the container", path: cwd, errno: EPERM) }
    }

    private func execute() -> Never {
        let environment = process.environment
        let searchPath = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? Self.defaultPath
        var candidates = [process.args[0]] + process.fallbackExecutables
        var lastError = ENOENT
        var lastName = process.args[0]
        while !candidates.isEmpty {
            let name = candidates.removeFirst()
            let resolution = ExecutableSearch.resolve(name, searchPath: searchPath)
            guard let path = resolution.path else {
                lastError = resolution.errno
                lastName = name
                continue
            }
            var arguments = process.args
            if name != process.args[0] { arguments[0] = name }
            let code = sealedExec(path: path, arguments: arguments, environment: environment)
            lastError = code
            lastName = name
            if code != ENOENT { break }
        }
        reporter.send(.exec(InitReport.describe("exec \(ContainerPath.quote(lastName))", errno: lastError)))
        _exit(lastError == ENOENT ? RuntimeExitCode.notFound : RuntimeExitCode.notExecutable)
    }

    /// Returns only on failure, with errno.
    private func sealedExec(path: String, arguments: [String], environment: [String]) -> Int32 {
        let argv = CStringArray(arguments)
        let envp = CStringArray(environment)
        let filter = process.seccomp.map { [UInt8]($0) } ?? []
        return ProcessControl.execSealed(path: path, arguments: argv, environment: envp, filter: filter)
    }
}

/// PATH lookup with execvp's rules, done before seccomp is loaded.
enum ExecutableSearch {
    static func resolve(_ name: String, searchPath: String) -> (path: String?, errno: Int32) {
        if name.contains("/") { return (name, 0) }
        var sawDenied = false
        for directory in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            var info = stat()
            guard stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            if access(candidate, X_OK) == 0 { return (candidate, 0) }
            sawDenied = true
        }
        return (nil, sawDenied ? EACCES : ENOENT)
    }
}
