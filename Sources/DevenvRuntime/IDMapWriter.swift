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
            try runHelper("newuidmap", pid: pid, entries: mapping.uids, file: "/etc/subuid")
            try runHelper("newgidmap", pid: pid, entries: mapping.gids, file: "/etc/subgid")
            return
        }
        if !privileged { try writeFile("/proc/\(pid)/setgroups", "deny") }
        try writeFile("/proc/\(pid)/uid_map", IDMapping.procText(mapping.uids))
        try writeFile("/proc/\(pid)/gid_map", IDMapping.procText(mapping.gids))
    }

    private func runHelper(_ name: String, pid: pid_t, entries: [IDMapEntry], file: String) throws {
        guard let path = Subprocess.find(name) else {
            throw RuntimeError(.setup, "\(name): not found", errno: ENOENT,
                               hint: "install the uidmap package, or remove your \(file) range to run with a single-uid mapping")
        }
        let result = try Subprocess.run(path, ["\(pid)"] + IDMapping.helperArguments(entries))
        guard result.status == .exited(0) else {
            let detail = result.errorOutput.split(separator: "\n").first.map { ": " + ContainerPath.quote(String($0)) } ?? ""
            throw RuntimeError(.setup, "\(name) \(pid) \(IDMapping.helperArguments(entries).joined(separator: " ")) \(result.status)\(detail)",
                               hint: "check that \(file) grants these ranges to your user and that \(path) is setuid root or has cap_set\(name == "newuidmap" ? "uid" : "gid")")
        }
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
