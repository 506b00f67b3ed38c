import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Where everything lives inside a store directory. The top level is an OCI image layout
/// (`oci-layout`, `index.json`, `blobs/`) so skopeo and umoci can read it; devenv's own
/// state sits beside it in directories those tools ignore.
public struct StoreLayout: Sendable {
    public let root: String

    /// A relative `root` is taken from the current directory: every path handed out (snapshot
    /// directories become overlay lower dirs) must be absolute. An empty root, or a relative
    /// one when the current directory cannot be resolved, is an error.
    public init(root: String) throws {
        let absolute = try StoreError.wrap { try HostPath.absolute(root, what: "store directory") }
        self.root = absolute.count > 1 && absolute.hasSuffix("/") ? String(absolute.dropLast()) : absolute
    }

    /// `$DEVENV_HOME`, else `/var/lib/devenv` for root, else `$XDG_DATA_HOME/devenv`
    /// (default `~/.local/share/devenv`). Throws when no home directory is known (never `/`).
    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment, uid: uid_t = geteuid()) throws -> String {
        if let home = environment["DEVENV_HOME"], !home.isEmpty { return home }
        if uid == 0 { return "/var/lib/devenv" }
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") { return "\(data)/devenv" }
        let home = try StoreError.wrap { try HostPath.home(environment: environment, uid: uid) }
        return "\(home)/.local/share/devenv"
    }

    public var ociLayoutFile: String { "\(root)/oci-layout" }
    public var indexFile: String { "\(root)/index.json" }
    public var blobsRoot: String { "\(root)/blobs" }
    public var ingest: String { "\(root)/ingest" }
    public var snapshots: String { "\(root)/snapshots" }
    public var locks: String { "\(root)/locks" }
    public var leases: String { "\(root)/leases" }
    public var tmp: String { "\(root)/tmp" }

    public func blobDirectory(_ algorithm: String) -> String { "\(blobsRoot)/\(algorithm)" }
    public func indexLock() -> String { "\(locks)/index.lock" }
}
