import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Writes a child's uid/gid maps from the parent: through newuidmap/newgidmap when the
/// mapping needs more than the caller's own id, else directly (after denying setgroups, as
/// the kernel requires of unprivileged writers).
struct IDMapWriter {
    let mapping: IDMapping
    let hostUID: UInt32
    let hostGID: UInt32
    let privileged: Bool

    static func current(_ mapping: IDMapping) -> IDMapWriter {
        IDMapWriter(mapping: mapping, hostUID: getuid(), hostGID: getgid(), privileged: geteuid() == 0)
    }

    var usesHelpers: Bool { !privileged && mapping.needsHelpers(hostUID: hostUID, hostGID: hostGID) }

    /// Whether setgroups(2) will work in the namespace afterwards.
    var setgroupsAllowed: Bool { privileged || usesHelpers }

    func write(pid: pid_t) throws {
        if usesHelpers {
            // Both at once: each is a setuid exec, a good part of a rootless start.
            let uids = try startHelper("newuidmap", pid: pid, entries: mapping.uids, file: "/etc/subuid")
            let gids: Helper
            do {
                gids = try startHelper("newgidmap", pid: pid, entries: mapping.gids, file: "/etc/subgid")
            } catch {
                _ = try? uids.running.wait()
                throw error
            }
            let uidResult = Result { try uids.finish() }
            try gids.finish()
            try uidResult.get()
            return
        }
        if !privileged { try writeFile("/proc/\(pid)/setgroups", "deny") }
        try writeFile("/proc/\(pid)/uid_map", IDMapping.procText(mapping.uids))
        try writeFile("/proc/\(pid)/gid_map", IDMapping.procText(mapping.gids))
    }

    /// newuidmap or newgidmap, running.
    private struct Helper {
        let name: String
        let file: String
        let arguments: [String]
        let running: Subprocess.Running

        func finish() throws {
            let result = try running.wait()
            guard result.status == .exited(0) else {
                let detail = result.errorOutput.split(separator: "\n").first.map { ": " + ContainerPath.quote(String($0)) } ?? ""
                throw RuntimeError(.setup, "\(name) \(arguments.joined(separator: " ")) \(result.status)\(detail)",
                                   hint: "check that \(file) grants these ranges to your user and that \(running.path) is setuid root or has cap_set\(name == "newuidmap" ? "uid" : "gid")")
            }
        }
    }

    private func startHelper(_ name: String, pid: pid_t, entries: [IDMapEntry], file: String) throws -> Helper {
        guard let path = Subprocess.find(name) else {
            throw RuntimeError(.setup, "\(name): not found", errno: ENOENT,
                               hint: "install the uidmap package, or remove your \(file) range to run with a single-uid mapping")
        }
        let arguments = ["\(pid)"] + IDMapping.helperArguments(entries)
        return Helper(name: name, file: file, arguments: arguments, running: try Subprocess.start(path, arguments))
    }

    private func writeFile(_ path: String, _ text: String) throws {
        do {
            let file = try FileDescriptor.open(path, O_WRONLY)
            try file.writeAll(Array(text.utf8), path: path)
        } catch let error as SystemError {
            throw RuntimeError(.setup, "write \(path): \(Errno.message(error.errno)) (\(Errno.name(error.errno)))", errno: error.errno,
                               hint: "the kernel refused this id mapping; run `devenv doctor`")
        }
    }
}
