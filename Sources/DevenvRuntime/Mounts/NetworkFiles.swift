/// Contents of the container's /etc/hosts and /etc/resolv.conf. Pure: host files come in as text.
public enum NetworkFiles {
    public static func hosts(hostname: String, network: NetworkMode, hostHosts: String?) -> String {
        var text = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t\(hostname)\n"
        if network == .host, let hostHosts {
            // Keep the host's own names resolvable (other services on the shared network).
            let extra = hostHosts.split(separator: "\n").filter { line in
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard let address = fields.first, !address.hasPrefix("#") else { return false }
                return !fields.dropFirst().contains { $0 == "localhost" }
            }
            if !extra.isEmpty { text += extra.joined(separator: "\n") + "\n" }
        }
        return text
    }

    /// The host's resolver configuration on the host network; none without a network.
    public static func resolvConf(network: NetworkMode, hostResolvConf: String?) -> String {
        switch network {
        case .host: return hostResolvConf ?? ""
        case .none: return "# no network (devenv --network none)\n"
        case .private: return "# the project's private network: loopback only ([shell] network = \"private\")\n"
        }
    }
}
