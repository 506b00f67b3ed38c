/// Adds the container user to the image's /etc/passwd and /etc/group text when missing, so
/// `id`, `whoami` and shells work without rebuilding the image. Pure.
public enum AccountDatabase {
    /// The new passwd text, or nil when the image already has an entry for the uid.
    public static func passwd(existing: String?, user: ContainerUser) -> String? {
        let lines = existing.map(entries) ?? []
        if lines.contains(where: { field($0, 2) == String(user.uid) }) { return nil }
        var name = user.name
        if lines.contains(where: { field($0, 0) == name }) { name = "u\(user.uid)" }
        let entry = "\(name):x:\(user.uid):\(user.gid):devenv user:\(user.home):\(user.shell)"
        return join(existing, entry)
    }

    /// The new group text, or nil when the image already has a group with the gid.
    public static func group(existing: String?, user: ContainerUser) -> String? {
        let lines = existing.map(entries) ?? []
        if lines.contains(where: { field($0, 2) == String(user.gid) }) { return nil }
        var name = user.groupName
        if lines.contains(where: { field($0, 0) == name }) { name = "g\(user.gid)" }
        return join(existing, "\(name):x:\(user.gid):")
    }

    static func entries(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }
    }

    static func field(_ line: Substring, _ index: Int) -> String? {
        let fields = line.split(separator: ":", omittingEmptySubsequences: false)
        return index < fields.count ? String(fields[index]) : nil
    }

    static func join(_ existing: String?, _ entry: String) -> String {
        guard let existing, !existing.isEmpty else { return entry + "\n" }
        return existing.hasSuffix("\n") ? existing + entry + "\n" : existing + "\n" + entry + "\n"
    }
}
