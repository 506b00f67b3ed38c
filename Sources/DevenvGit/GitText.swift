import DevenvText

/// Paths and libgit2 messages before they reach a terminal (file names in a working tree are
/// untrusted: they may contain newlines or escape sequences).
enum GitText {
    static func quote(_ path: String) -> String { Printable.quoted(path) }

    static func escape(_ text: String) -> String { Printable.escape(text) }
}
