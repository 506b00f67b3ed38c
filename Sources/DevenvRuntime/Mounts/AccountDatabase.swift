import DevenvSystem

/// Adds the container user to the image's /etc/passwd and /etc/group text when missing, so
/// `id`, `whoami` and shells work without rebuilding the image. Pure; the files are read
/// with `AccountFile`.
public enum AccountDatabase {
    /// The new passwd text, or nil when the image already has an entry for the uid.
    public static func passwd(existing: String?, user: ContainerUser) -> String? {
        let entries = AccountFile.passwd(existing ?? "")
        if entries.contains(where: { $0.uid == user.uid }) { return nil }
        var name = user.name
        if entries.contains(where: { $0.name == name }) { name = "u\(user.uid)" }
        let entry = "\(name):x:\(user.uid):\(user.gid):devenv user:\(user.home):\(user.shell)"
        return join(existing, entry)
    }

    /// The new group text, or nil when the image already has a group with the gid.
    public static func group(existing: String?, user: ContainerUser) -> String? {
        let entries = AccountFile.group(existing ?? "")
        if entries.contains(where: { $0.gid == user.gid }) { return nil }
        var name = user.groupName
        if entries.contains(where: { $0.name == name }) { name = "g\(user.gid)" }
        return join(existing, "\(name):x:\(user.gid):")
    }

    static func join(_ existing: String?, _ entry: String) -> String {
        guard let existing, !existing.isEmpty else { return entry + "\n" }
        return existing.hasSuffix("\n") ? existing + entry + "\n" : existing + "\n" + entry + "\n"
    }
}
