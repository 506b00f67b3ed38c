/// The command a `packages` step runs: the image's own package manager (apt, apk or dnf,
/// detected in the image), non-interactive, with its download cache on a cache mount so a
/// rebuild after adding one package downloads only that package.
import DevenvPlan

enum PackageInstaller {
    static let cacheDirectories = ["/var/cache/apt/archives", "/var/lib/apt/lists", "/var/cache/apk", "/var/cache/dnf"]
    static let aptLists = "/var/lib/apt/lists"

    /// What the lock resolved the step to: apt installs exactly these versions (dependencies
    /// pinned too), and names any the archive no longer serves with `source`, where the
    /// lock's versions came from.
    struct Pins: Equatable, Sendable {
        var packages: [LockedPackage]
        var source: String
    }

    static func command(installing packages: [String], pins: Pins? = nil) -> [String] {
        let names = packages.map { name in
            guard let pins, !name.contains("="), let locked = pins.packages.first(where: { $0.name == name }) else { return RunStep.shellQuote(name) }
            return RunStep.shellQuote("\(name)=\(locked.version)")
        }.joined(separator: " ")
        let script = """
        set -e
        if command -v apt-get >/dev/null 2>&1; then
          export DEBIAN_FRONTEND=noninteractive
          rm -f /etc/apt/apt.conf.d/docker-clean
          apt-get -o APT::Keep-Downloaded-Packages=true update -q
        \(pins.map(pinning) ?? "")  apt-get -o APT::Keep-Downloaded-Packages=true install -y -q --no-install-recommends \(names)
          rm -f /etc/apt/preferences.d/devenv-lock
          # What differs on every run (logs, ldconfig's inode cache) would make the layer differ too;
          # apt's binary caches of the lists (tens of MB) go as well: the lists stay on the cache
          # mount, and apt rebuilds the caches from them when it needs them.
          rm -f /var/cache/ldconfig/aux-cache /var/log/apt/eipp.log.xz /var/cache/apt/pkgcache.bin /var/cache/apt/srcpkgcache.bin
          for log in /var/log/dpkg.log /var/log/alternatives.log /var/log/apt/history.log /var/log/apt/term.log; do
            if [ -f "$log" ]; then : > "$log"; fi
          done
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

    /// An apt preferences file that makes each locked version the candidate (1001: even a
    /// downgrade), which a `packages` step and a distro base's bootstrap install with.
    static func preferences(_ packages: [LockedPackage]) -> String {
        packages.map { "Package: \($0.name)\nPin: version \($0.version)\nPin-Priority: 1001\n" }.joined(separator: "\n")
    }

    /// Checks that the archive still serves every locked version, then pins them all (so
    /// dependencies resolve to the locked versions too, while staying marked automatic).
    private static func pinning(_ pins: Pins) -> String {
        let wanted = pins.packages.map { RunStep.shellQuote("\($0.name)=\($0.version)") }.joined(separator: " ")
        let preferences = preferences(pins.packages)
        return """
          missing=""
          for wanted in \(wanted); do
            name="${wanted%%=*}"; version="${wanted#*=}"
            apt-cache madison "$name" | awk -F '|' -v want="$version" '{ gsub(/ /, "", $2); if ($2 == want) found = 1 } END { exit !found }' \\
              || missing="$missing $wanted"
          done
          if [ -n "$missing" ]; then
            echo "devenv: the archive no longer serves these locked versions:$missing" >&2
            printf '%s\\n' \(RunStep.shellQuote("devenv: .devenv/devenv.lock resolved them from \(pins.source); run `devenv lock` to resolve them again")) >&2
            exit 100
          fi
          printf '%s' \(RunStep.shellQuote(preferences)) > /etc/apt/preferences.d/devenv-lock

        """
    }
}
