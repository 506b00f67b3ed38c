import DevenvText

/// The URL a pod's clone container fetches the repository from: the checkout's remote as
/// configured, usable from a cluster. Pure, so the refusals are tested without git.
enum KubeRemote {
    /// `url` with any password or token removed (it would be written into the pod spec for
    /// everyone who can read it), and whether one was. A local path or `file://` URL is
    /// refused: the cluster's nodes do not have it.
    static func cloneURL(_ url: String, remote: String) throws -> (url: String, removedCredentials: Bool) {
        let hint = "\nhint: push the repository somewhere the cluster can reach and add it as a remote, or use `--workspace host`"
        guard let schemeEnd = url.range(of: "://") else {
            // scp-like `[user@]host:path`, as git reads it: a colon before any slash.
            if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/"), colon != url.startIndex {
                return (url, false)
            }
            throw KitError.kube(problem: "the remote '\(Printable.escape(remote))' is a local path (\(Printable.quoted(url))), which a cluster cannot clone" + hint)
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        if scheme == "file" {
            throw KitError.kube(problem: "the remote '\(Printable.escape(remote))' is a local path (\(Printable.quoted(url))), which a cluster cannot clone" + hint)
        }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return (url, false) }
        let userInfo = rest[..<at]
        // A user name alone (`ssh://git@host/…`) is not a secret; `user:password@` is, and so
        // is a token standing alone in place of a user (`https://TOKEN@host/…`).
        if !userInfo.contains(":") && scheme == "ssh" { return (url, false) }
        return (String(url[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...]), true)
    }
}
