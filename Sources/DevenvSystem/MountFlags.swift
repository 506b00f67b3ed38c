/// mount(2)'s flag word, with names. The raw values are the kernel's MS_* bits, so a plan
/// stores what the call is given; the first four are also mount_setattr(2)'s and fsmount(2)'s
/// MOUNT_ATTR_* bits (`attributes`).
public struct MountFlags: OptionSet, Hashable, Codable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readOnly = MountFlags(rawValue: 1)         // MS_RDONLY
    public static let noSuid = MountFlags(rawValue: 2)           // MS_NOSUID
    public static let noDev = MountFlags(rawValue: 4)            // MS_NODEV
    public static let noExec = MountFlags(rawValue: 8)           // MS_NOEXEC
    public static let remount = MountFlags(rawValue: 32)         // MS_REMOUNT
    public static let noAtime = MountFlags(rawValue: 1024)       // MS_NOATIME
    public static let noDirAtime = MountFlags(rawValue: 2048)    // MS_NODIRATIME
    public static let bind = MountFlags(rawValue: 4096)          // MS_BIND
    public static let recursive = MountFlags(rawValue: 16384)    // MS_REC
    public static let `private` = MountFlags(rawValue: 1 << 18)  // MS_PRIVATE

    /// The flags a user namespace locks on a mount it did not create: a remount must repeat
    /// them (statvfs reports them as ST_* bits with these same values).
    public static let locked: MountFlags = [.readOnly, .noSuid, .noDev, .noExec, .noAtime, .noDirAtime]

    /// The `mount(2)` flag word.
    public var systemFlags: UInt { UInt(rawValue) }

    /// The MOUNT_ATTR_* word of mount_setattr(2) and fsmount(2): only ro, nosuid, nodev and
    /// noexec have the MS_ values there.
    public var attributes: UInt64 { UInt64(intersection([.readOnly, .noSuid, .noDev, .noExec]).rawValue) }

    /// `ro,nosuid,nodev,noexec` (the set ones), for messages.
    public var optionNames: String {
        [(MountFlags.readOnly, "ro"), (.noSuid, "nosuid"), (.noDev, "nodev"), (.noExec, "noexec"),
         (.bind, "bind"), (.recursive, "rec"), (.private, "private"), (.remount, "remount"),
         (.noAtime, "noatime"), (.noDirAtime, "nodiratime")]
            .filter { contains($0.0) }.map(\.1).joined(separator: ",")
    }
}
