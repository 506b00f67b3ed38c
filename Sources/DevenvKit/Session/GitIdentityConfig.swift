import DevenvGit
import DevenvRuntime

/// The git configuration a project session reads as its global one (`GIT_CONFIG_GLOBAL`):
/// the container's own `~/.gitconfig` and `~/.config/git/config` first (an image's or the
/// user's settings stay), then the host user's `user.name` and `user.email`, then
/// `safe.directory` for the working tree (as root the tree belongs to another uid). Read-only
/// inside; the host's file is never bound, so its credential helpers and paths stay outside.
enum GitIdentityConfig {
    static let containerPath = "/run/devenv/gitconfig"

    static func file(identity: GitUserIdentity?, workingTree: String) -> GeneratedFile {
        var text = "# Written by devenv for this session (docs/daily-use.md, \"Identity, env and devices\").\n"
        text += "[include]\n\tpath = ~/.gitconfig\n\tpath = ~/.config/git/config\n"
        let user = [("name", identity?.name), ("email", identity?.email)].compactMap { key, value in value.flatMap(quoted).map { "\t\(key) = \($0)\n" } }
        if !user.isEmpty { text += "[user]\n" + user.joined() }
        if let directory = quoted(workingTree) { text += "[safe]\n\tdirectory = \(directory)\n" }
        return GeneratedFile(destination: containerPath, contents: text)
    }

    /// A git configuration value in double quotes; nil for one git cannot hold on a line
    /// (a newline or another control character).
    static func quoted(_ value: String) -> String? {
        guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return nil }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
