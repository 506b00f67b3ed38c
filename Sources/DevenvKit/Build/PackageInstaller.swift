/// The command a `packages` step runs: the image's own package manager (apt, apk or dnf,
/// detected in the image), non-interactive, with its download cache on a cache mount so a
/// rebuild after adding one package downloads only that package.
import DevenvPlan

enum PackageInstaller {
    static let cacheDirectories = ["/var/cache/apt/archives", "/var/lib/apt/lists", "/var/cache/apk", "/var/cache/dnf"]

    static func command(installing packages: [String]) -> [String] {
        let names = packages.map(RunStep.shellQuote).joined(separator: " ")
        let script = """
        set -e
        if command -v apt-get >/dev/null 2>&1; then
          export DEBIAN_FRONTEND=noninteractive
          rm -f /etc/apt/apt.conf.d/docker-clean
          apt-get -o APT::Keep-Downloaded-Packages=true update -q
          apt-get -o APT::Keep-Downloaded-Packages=true install -y -q --no-install-recommends \(names)
        elif command -v apk >/dev/null 2>&1; then
          apk add --cache-dir /var/cache/apk \(names)
        elif command -v dnf >/dev/null 2>&1; then
          dnf install -y --setopt=keepcache=1 \(names)
        else
          echo "devenv: no supported package manager (apt-get, apk, dnf) in the image" >&2
          exit 127
        fi
        """
        return ["/bin/sh", "-c", script]
    }
}
