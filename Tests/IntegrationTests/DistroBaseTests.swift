@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `[base] distro`: devenv bootstraps Debian itself with mmdebstrap from the host's mirror
/// (the only network these tests use), caches it as an ordinary image, locks it, and package
/// steps on it reuse apt's downloads. Each bootstrap takes 20-60 s, so the suite shares one
/// project where it can.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("mmdebstrap")))
struct DistroBaseTests {
    static func manifest(packages: [String], variant: String? = nil) -> String {
        """
        [base]
        distro = "debian:bookworm"
        \(variant.map { "variant = \"\($0)\"" } ?? "")

        [[step]]
        packages = [\(packages.map { "\"\($0)\"" }.joined(separator: ", "))]

        [[step]]
        run = "hello > /greeting"
        """
    }

    static func getLines(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("Get:") }
    }

    @Test func bootstrapCacheLockPackagesAndReproducibility() throws {
        try Requirement.require(root: true, programs: ["mmdebstrap"])
        let project = try DistroProject(manifest: Self.manifest(packages: ["hello"]))

        // Cold: bootstrapped (one summary line, not a terminal), stored, locked.
        let cold = try project.devenv(["build"])
        #expect(cold.succeeded, "\(cold.stderr)")
        #expect(cold.stderr.contains("bootstrapped debian:bookworm (minbase) from http"), "\(cold.stderr)")
        let base = try #require(try project.baseImage())
        #expect(base.hasPrefix("localhost/devenv-base/debian:bookworm-"))
        try checkBaseImage(project, base)
        let lock = try #require(project.read(".devenv/devenv.lock"))
        #expect(lock.contains("distro = \"debian:bookworm\"\nin_release = \"sha256:") && lock.contains("\nmirror = \"http") && lock.contains("\nvariant = \"minbase\"\n"), "\(lock)")
        // The archive as the bootstrap saw it: the suite, its InRelease and every package, one a line.
        #expect(lock.contains("\nin_release_date = \"") && lock.contains("\nlayers = 24\n") && lock.contains("\nsuite = \"bookworm\"\n"), "\(lock)")
        let libc = try #require(lock.split(separator: "\n").first { $0.hasPrefix("  { architecture = \"amd64\", name = \"libc6\", sha256 = \"") }, "\(lock)")
        #expect(lock.components(separatedBy: "[[step]]")[0].contains("installed = [\n") && libc.contains(", version = \""), "\(lock)")
        let baseDigest = try #require(try project.inspect(base)["digest"] as? String)
        #expect(lock.contains("digest = \"\(baseDigest)\""))
        let firstGets = Self.getLines(cold.stderr)
        #expect(firstGets.contains { $0.contains(" Packages") } && firstGets.contains { $0.contains(" hello ") })

        // Warm: nothing bootstrapped, nothing run.
        let warm = try project.devenv(["build", "--json"])
        #expect(warm.succeeded && !warm.stderr.contains("bootstrap"), "\(warm.stderr)")
        #expect(!warm.stdout.contains("\"cached\" : false"))

        try packagesAreLockedAndPinned(project)
        try lockResolvesPackagesAgain(project)
        try lockResolvesPackagesOnADockerfileBase(store: project.store, base: base)
        try addingAPackageDownloadsOnlyThatPackage(project, firstGets: firstGets)
        try anUnknownPackageNamesTheStep(project)
        try frozenLockAndIdenticalRebootstrap(project, baseDigest: baseDigest)
        try aMovedArchiveIsNamedPackageByPackage(project)
        try rootlessBootstrapGivesTheSameBase(baseDigest: baseDigest)
    }

    /// An ordinary OCI image: a zstd layer per package (the largest; the rest share one) and
    /// the package database's last, PATH and bash, made at SOURCE_DATE_EPOCH.
    private func checkBaseImage(_ project: DistroProject, _ base: String) throws {
        let inspected = try project.inspect(base)
        let config = try #require(inspected["config"] as? [String: Any])
        let run = try #require(config["config"] as? [String: Any])
        #expect(run["Cmd"] as? [String] == ["/bin/bash"])
        #expect((run["Env"] as? [String])?.contains { $0.hasPrefix("PATH=") } == true)
        #expect(config["created"] as? String == "2023-11-14T22:13:20Z")
        let layers = (inspected["manifest"] as? [String: Any])?["layers"] as? [[String: Any]] ?? []
        let comments = (config["history"] as? [[String: Any]] ?? []).map { $0["comment"] as? String ?? "" }
        #expect(layers.count == comments.count && layers.count > 2 && layers.count <= 24, "\(comments)")
        #expect(comments.last == "maintainer scripts and package database" && comments.contains("package libc6:amd64"), "\(comments)")
        let archive = project.scratch.file("base.tar")
        let exported = try project.devenv(["image", "export", base, "-o", archive])
        #expect(exported.succeeded, "\(exported.stderr)")
        if Requirement.hasProgram("skopeo") {
            let skopeo = try DevenvProcess.run("skopeo", ["inspect", "oci-archive:\(archive)"])
            #expect(skopeo.succeeded && skopeo.stdout.contains("\"Architecture\""), "\(skopeo.stderr)")
        }
    }

    /// apt's lists and downloads live on cache mounts: the rebuild fetches only the new
    /// package (and its dependencies), not the index or `hello` again.
    private func addingAPackageDownloadsOnlyThatPackage(_ project: DistroProject, firstGets: [String]) throws {
        try project.write(".devenv/devenv.toml", Self.manifest(packages: ["hello", "sl"]))
        let rebuilt = try project.devenv(["build"])
        #expect(rebuilt.succeeded, "\(rebuilt.stderr)")
        let gets = Self.getLines(rebuilt.stderr)
        #expect(gets.contains { $0.contains(" sl ") }, "\(gets)")
        #expect(!gets.contains { $0.contains(" hello ") || $0.contains(" Packages") || $0.contains("Translation") }, "\(gets)")
        #expect(gets.count < firstGets.count)
        #expect(!rebuilt.stderr.contains("bootstrapped"))
    }

    /// The packages step's resolved set is locked (hello and any dependency, each with its
    /// `.deb`'s SHA-256), so the warm build above ran nothing although it now installs exactly
    /// that; a locked version the archive no longer serves is named with where it came from.
    private func packagesAreLockedAndPinned(_ project: DistroProject) throws {
        let lock = try #require(project.read(".devenv/devenv.lock"))
        let line = try #require(lock.split(separator: "\n").first { $0.contains("name = \"hello\"") }.map(String.init), "\(lock)")
        #expect(line.hasPrefix("  { architecture = \"") && line.contains("\", sha256 = \"") && line.contains(", version = \""), "\(line)")
        let version = String(line.components(separatedBy: "version = \"")[1].prefix { $0 != "\"" })
        try project.write(".devenv/devenv.lock", lock.replacingOccurrences(of: "version = \"\(version)\"", with: "version = \"0.0-devenv-gone\""))
        let gone = try project.devenv(["build"])
        #expect(gone.status == 68, "\(gone.stderr)")
        #expect(gone.stderr.contains("devenv: the archive no longer serves these locked versions: hello=0.0-devenv-gone"), "\(gone.stderr)")
        #expect(gone.stderr.contains("devenv: .devenv/devenv.lock resolved them from debian:bookworm from http"), "\(gone.stderr)")
        try project.write(".devenv/devenv.lock", lock)
        let pinned = try project.devenv(["build", "--frozen", "--json"])
        #expect(pinned.succeeded && !pinned.stdout.contains("\"cached\" : false"), "\(pinned.stderr)")
    }

    /// `devenv lock` runs a `packages` step again, unpinned, and names what moved; the next
    /// build, pinned to the new versions, runs nothing. (The archive does not move during a
    /// test: a lock edited to an older version stands in for it.)
    private func lockResolvesPackagesAgain(_ project: DistroProject) throws {
        let lock = try #require(project.read(".devenv/devenv.lock"))
        let line = try #require(lock.split(separator: "\n").first { $0.contains("name = \"hello\"") }.map(String.init), "\(lock)")
        let version = String(line.components(separatedBy: "version = \"")[1].prefix { $0 != "\"" })
        try project.write(".devenv/devenv.lock", lock.replacingOccurrences(of: line, with: line.replacingOccurrences(of: "version = \"\(version)\"", with: "version = \"0.0-devenv-old\"")))
        let check = try project.devenv(["lock", "--check"])
        #expect(check.succeeded, "--check runs nothing, and the definitions did not change: \(check.stderr)")
        let relocked = try project.devenv(["lock"])
        #expect(relocked.succeeded, "\(relocked.stderr)")
        #expect(relocked.stdout.contains("step 1 (.devenv/devenv.toml:6): package hello 0.0-devenv-old -> \(version)\n"), "\(relocked.stdout)")
        #expect(relocked.stderr.contains("devenv lock resolves its packages again"), "\(relocked.stderr)")
        #expect(project.read(".devenv/devenv.lock") == lock)
        let pinned = try project.devenv(["build", "--frozen", "--json"])
        #expect(pinned.succeeded && !pinned.stdout.contains("\"cached\" : false"), "\(pinned.stdout)\(pinned.stderr)")
    }

    /// The same on a Dockerfile base (here one `FROM` the bootstrapped base, in the same store):
    /// `devenv lock` builds the Dockerfile's target and runs the `packages` step on it again.
    private func lockResolvesPackagesOnADockerfileBase(store: String, base: String) throws {
        let manifest = "[base]\ndockerfile = \"Dockerfile\"\n\n\n[[step]]\npackages = [\"hello\"]\n"
        let project = try DistroProject(manifest: manifest, label: "devenv-distro-dockerfile", store: store)
        try project.write("Dockerfile", "FROM \(base)\nRUN echo dockerfile > /from-dockerfile\n")
        let built = try project.devenv(["build"])
        #expect(built.succeeded, "\(built.stderr)")
        #expect(project.read(".devenv/devenv.lock")?.contains("name = \"hello\"") == true, "\(project.read(".devenv/devenv.lock") ?? "")")
        try lockResolvesPackagesAgain(project)
    }

    /// apt's own message comes first; devenv's line names the step and the manifest line.
    private func anUnknownPackageNamesTheStep(_ project: DistroProject) throws {
        try project.write(".devenv/devenv.toml", Self.manifest(packages: ["hello", "no-such-package-devenv"]))
        let failed = try project.devenv(["build"])
        #expect(failed.status == 68)
        let apt = try #require(failed.stderr.range(of: "E: Unable to locate package no-such-package-devenv"), "\(failed.stderr)")
        let devenv = try #require(failed.stderr.range(of: "devenv: error: .devenv/devenv.toml:6: build step 1 failed with exit status 100"), "\(failed.stderr)")
        #expect(apt.upperBound < devenv.lowerBound)
        try project.write(".devenv/devenv.toml", Self.manifest(packages: ["hello", "sl"]))
    }

    /// `--frozen` accepts the current lock and rejects a changed input; rebuilding the base
    /// from the same archive gives the very same image, so even `--frozen --no-cache`
    /// (which bootstraps again) passes.
    private func frozenLockAndIdenticalRebootstrap(_ project: DistroProject, baseDigest: String) throws {
        let frozen = try project.devenv(["build", "--frozen"])
        #expect(frozen.succeeded, "\(frozen.stderr)")

        try project.write(".devenv/devenv.toml", Self.manifest(packages: ["hello", "sl"], variant: "buildd"))
        let stale = try project.devenv(["build", "--frozen"])
        #expect(stale.status == 67)
        #expect(stale.stderr.contains(".devenv/devenv.lock is stale (variant 'minbase' -> 'buildd')"), "\(stale.stderr)")
        try project.write(".devenv/devenv.toml", Self.manifest(packages: ["hello", "sl"]))

        let again = try project.devenv(["build", "--frozen", "--no-cache"])
        #expect(again.succeeded, "\(again.stderr)")
        #expect(again.stderr.contains("bootstrapped debian:bookworm"))
        #expect(try project.inspect(try #require(try project.baseImage()))["digest"] as? String == baseDigest)
    }

    /// The lock's base is gone from the store and the archive moved (a lock edited to another
    /// libc6 stands in for it): `--frozen` names the package with both versions; bootstrapping
    /// again, pinned to the lock, says the archive no longer serves it and where it came from.
    private func aMovedArchiveIsNamedPackageByPackage(_ project: DistroProject) throws {
        let lock = try #require(project.read(".devenv/devenv.lock"))
        let base = lock.components(separatedBy: "[[step]]")[0]
        let line = try #require(base.split(separator: "\n").first { $0.contains("name = \"libc6\"") }.map(String.init), "\(lock)")
        let version = String(line.components(separatedBy: "version = \"")[1].prefix { $0 != "\"" })
        let digest = String(try #require(base.components(separatedBy: "[base]\ndigest = \"").dropFirst().first?.prefix(71)))
        let gone = "sha256:" + String(repeating: "0", count: 64)
        try project.write(".devenv/devenv.lock", lock.replacingOccurrences(of: digest, with: gone)
            .replacingOccurrences(of: line, with: line.replacingOccurrences(of: "version = \"\(version)\"", with: "version = \"0.0-devenv-gone\"")))
        let frozen = try project.devenv(["build", "--frozen"])
        #expect(frozen.status == 67, "\(frozen.stderr)")
        #expect(frozen.stderr.contains("--frozen: the locked base 000000000000 is not in the store, and bootstrapping debian:bookworm again gave"), "\(frozen.stderr)")
        #expect(frozen.stderr.contains("\n  base debian:bookworm: package libc6 0.0-devenv-gone -> \(version)\n"), "\(frozen.stderr)")
        let rebootstrapped = try project.devenv(["build", "--frozen", "--no-cache"])
        #expect(rebootstrapped.status == 67, "\(rebootstrapped.stderr)")
        #expect(rebootstrapped.stderr.contains("bootstrap debian:bookworm: the archive no longer serves these locked versions: libc6 0.0-devenv-gone (it has \(version))"), "\(rebootstrapped.stderr)")
        #expect(rebootstrapped.stderr.contains(".devenv/devenv.lock resolved them from debian:bookworm from http") && rebootstrapped.stderr.contains("(InRelease of "), "\(rebootstrapped.stderr)")
        try project.write(".devenv/devenv.lock", lock)
        #expect(try project.devenv(["build", "--frozen"]).succeeded)
    }

    /// mmdebstrap's unshare mode as an unprivileged user builds the identical base (so the
    /// same archive snapshot in its labels and lock); `devenv lock` resolves its packages
    /// step again.
    private func rootlessBootstrapGivesTheSameBase(baseDigest: String) throws {
        let project = try DistroProject(manifest: Self.manifest(packages: ["hello"]), label: "devenv-distro-rootless", as: .rootless)
        let result = try project.devenv(["build"])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stderr.contains("bootstrapped debian:bookworm"))
        let lock = project.read(".devenv/devenv.lock") ?? ""
        #expect(lock.contains("digest = \"\(baseDigest)\""), "\(lock)")
        #expect(lock.contains("\nin_release = \"sha256:") && lock.contains("name = \"libc6\", sha256 = \""), "\(lock)")
        try lockResolvesPackagesAgain(project)
    }

    /// `[base] layers` caps the bootstrapped base's split; it is an input of the base, so the
    /// lock holds a build to it, and it is checked at its line.
    @Test(arguments: DevenvUser.allCases)
    func layersCapTheBase(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["mmdebstrap"])
        let manifest = "[base]\ndistro = \"debian:bookworm\"\nlayers = 3\n"
        let project = try DistroProject(manifest: manifest, label: "devenv-distro-layers", as: user)
        let built = try project.devenv(["build"])
        #expect(built.succeeded, "\(built.stderr)")
        let inspected = try project.inspect(try #require(try project.baseImage()))
        let layers = (inspected["manifest"] as? [String: Any])?["layers"] as? [[String: Any]] ?? []
        let comments = ((inspected["config"] as? [String: Any])?["history"] as? [[String: Any]] ?? []).map { $0["comment"] as? String ?? "" }
        #expect(layers.count == 3 && comments.last == "maintainer scripts and package database", "\(comments)")
        #expect(project.read(".devenv/devenv.lock")?.contains("\nlayers = 3\n") == true)

        try project.write(".devenv/devenv.toml", manifest.replacingOccurrences(of: "layers = 3", with: "layers = 4"))
        let stale = try project.devenv(["build", "--frozen"])
        #expect(stale.status == 67 && stale.stderr.contains(".devenv/devenv.lock is stale (layers '3' -> '4')"), "\(stale.stderr)")
        try project.write(".devenv/devenv.toml", manifest.replacingOccurrences(of: "layers = 3", with: "layers = 0"))
        let invalid = try project.devenv(["build"])
        #expect(invalid.status != 0 && invalid.stderr.contains(".devenv/devenv.toml:3:10: error: base.layers: must be from 1 to 100 (layers of the base;"), "\(invalid.stderr)")
    }

    @Test func anUnreachableMirrorFailsWithItsLog() throws {
        try Requirement.require(root: true, programs: ["mmdebstrap"])
        // Port 9 (discard) on loopback: nothing listens, apt fails at once.
        let project = try DistroProject(manifest: "[base]\ndistro = \"debian:bookworm\"\nmirror = \"http://127.0.0.1:9/debian\"\n")
        let failed = try project.devenv(["build"])
        #expect(failed.status == 125)
        #expect(failed.stderr.contains("devenv: error: bootstrap debian:bookworm (minbase, from http://127.0.0.1:9/debian): mmdebstrap failed (exit status"), "\(failed.stderr)")
        #expect(failed.stderr.contains("--- last lines of \(project.store)/distro/bootstrap-"))
        #expect(failed.stderr.contains("hint: check that http://127.0.0.1:9/debian serves suite 'bookworm'"))
        #expect(try project.baseImage() == nil)
        #expect(project.read(".devenv/devenv.lock") == nil)
    }
}
