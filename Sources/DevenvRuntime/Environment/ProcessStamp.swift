import DevenvSystem
import FoundationEssentials

/// Names one process for its whole life and no longer: the pid, its start time (clock ticks
/// after boot, field 22 of /proc/PID/stat) and the boot it belongs to. A recorded pid that now
/// names another process, or a record from before a reboot, no longer matches.
public struct ProcessStamp: Codable, Hashable, Sendable {
    public var pid: Int32
    public var startTime: UInt64
    public var bootID: String

    public init(pid: Int32, startTime: UInt64, bootID: String) {
        self.pid = pid
        self.startTime = startTime
        self.bootID = bootID
    }

    /// The stamp of the live process `pid`, or nil when there is none.
    public static func current(_ pid: Int32) -> ProcessStamp? {
        guard pid > 0, let stat = FileDescriptor.readSystemText("/proc/\(pid)/stat"),
              let startTime = startTime(fromStat: stat) else { return nil }
        return ProcessStamp(pid: pid, startTime: startTime, bootID: bootID())
    }

    /// Whether this stamp still names a running process.
    public var isAlive: Bool { Self.current(pid) == self }

    public static func bootID() -> String {
        (FileDescriptor.readSystemText("/proc/sys/kernel/random/boot_id") ?? "").filter { !$0.isWhitespace }
    }

    /// Field 22 of /proc/PID/stat, nil for a process that has exited (a zombie nobody reaped
    /// yet is dead to its sessions). The command name (field 2) may hold spaces and
    /// parentheses, so fields are counted after its last ')' (pure).
    static func startTime(fromStat text: String) -> UInt64? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); field 22 is fields[19].
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return nil }
        return UInt64(fields[19])
    }
}
