@testable import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Dev Container Features installed by `devenv build`: a local one and OCI ones the test
/// publishes to its own registry (the spec's media types), with options, `dependsOn`,
/// `installsAfter`, the lock beside devcontainer.json, and a feature shaped like the public
/// ones (apt). Real containers and a real registry, as root and as the unprivileged user.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("docker-registry", "curl", "tar")))
struct DevContainerFeatureTests {
    /// Writes a feature directory: its devcontainer-feature.json and install.sh.
    static func feature(_ root: String, metadata: String, install: String) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try metadata.write(toFile: "\(root)/devcontainer-feature.json", atomically: false, encoding: .utf8)
        try install.write(toFile: "\(root)/install.sh", atomically: false, encoding: .utf8)
        chmod("\(root)/install.sh", 0o755)
    }

    @Test(arguments: DevenvUser.allCases)
    func featuresInstallInOrderWithOptionsAndStayPinned(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["docker-registry", "curl", "tar"])
        let registry = try TestRegistry()
        defer { registry.stop() }
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        let published = try Scratch("features")
        let common = "\(registry.authority)/feat/common"
        let greeter = "\(registry.authority)/feat/greeter"

        try Self.feature(published.file("common"), metadata: """
            { "id": "common", "version": "1.0.0", "options": { "username": { "type": "string", "default": "nobody" } } }
            """, install: "#!/bin/sh\necho \"common $USERNAME\" >> /features-order\n")
        try FeaturePublisher.publish(published.file("common"), to: registry, repository: "feat/common", tag: "1")
        try Self.feature(published.file("greeter"), metadata: """
            {
              "id": "greeter", "version": "2.1.0",
              "options": {
                "greeting": { "type": "string", "enum": ["hello", "hi"], "default": "hello" },
                "loud": { "type": "boolean", "default": false }
              },
              "dependsOn": { "\(common):1": { "username": "dev" } },
              "containerEnv": { "GREETER_HOME": "/opt/greeter" },
              "postStartCommand": "echo started-by-greeter"
            }
            """, install: "#!/bin/sh\nset -e\necho \"greeter $GREETING $LOUD $_REMOTE_USER $_REMOTE_USER_HOME $GREETER_HOME\" >> /features-order\n")
        let firstDigest = try FeaturePublisher.publish(published.file("greeter"), to: registry, repository: "feat/greeter", tag: "1").manifest

        // Without installsAfter, ./local would go first (the first round sorts by id).
        try project.write(".devcontainer/local/devcontainer-feature.json", """
            { "id": "local", "installsAfter": ["\(greeter)"], "containerEnv": { "PATH": "/opt/local/bin:${PATH}" },
              "postCreateCommand": "echo local-created > /local-created" }
            """)
        try project.write(".devcontainer/local/install.sh", "#!/bin/sh\nmkdir -p /opt/local/bin\necho local >> /features-order\n")
        try project.write(".devcontainer/devcontainer.json", """
            {
              "image": "\(bases.busybox)",
              "features": {
                "./local": {},
                "\(greeter):1": { "greeting": "hi", "loud": true },
              },
            }
            """)

        let built = try project.buildSteps(["build", "--json", "--explain"])
        let summaries = built.map { $0["summary"] as? String ?? "" }
        #expect(summaries.filter { $0.hasPrefix("feature ") } == ["feature \(common):1", "feature \(greeter):1", "feature ./local"], "\(summaries)")
        #expect(built.allSatisfy { $0["location"] as? String == ".devcontainer/devcontainer.json:4" || $0["location"] as? String == ".devcontainer/devcontainer.json:5" }, "\(built)")
        let run = try project.devenv(["run", "--", "sh", "-c", "cat /features-order /local-created; echo PATH=$PATH"])
        #expect(run.succeeded, "\(run.stderr)")
        // The feature's start command runs first, then the command.
        #expect(run.stdout.hasPrefix("started-by-greeter\ncommon dev\ngreeter hi true root /root /opt/greeter\nlocal\nlocal-created\nPATH=/opt/local/bin:"), "\(run.stdout)")

        // Each feature is a cached step; nothing runs again.
        let again = try project.buildSteps(["build", "--json"])
        #expect(again.allSatisfy { $0["cached"] as? Bool == true }, "\(again)")

        // devenv lock pins both OCI features in devcontainer-lock.json (the CLI's format).
        let locked = try project.devenv(["lock"])
        #expect(locked.succeeded, "\(locked.stderr)")
        let lockPath = "\(project.root)/.devcontainer/devcontainer-lock.json"
        let lock = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: lockPath))) as? [String: [String: [String: String]]])
        #expect(lock["features"]?["\(greeter):1"] == ["version": "2.1.0", "resolved": "\(greeter)@\(firstDigest)", "integrity": firstDigest])
        #expect(lock["features"]?["\(common):1"]?["version"] == "1.0.0")
        #expect(lock["features"]?.count == 2)

        // A new greeter:1 is published; the lock keeps the build on the pinned one.
        try "#!/bin/sh\necho greeter-v2 >> /features-order\n".write(toFile: published.file("greeter/install.sh"), atomically: false, encoding: .utf8)
        let secondDigest = try FeaturePublisher.publish(published.file("greeter"), to: registry, repository: "feat/greeter", tag: "1").manifest
        #expect(secondDigest != firstDigest)
        let pinned = try project.buildSteps(["build", "--json"])
        #expect(pinned.allSatisfy { $0["cached"] as? Bool == true }, "\(pinned)")
        // Locking again moves the pin, and the build installs the new one.
        #expect(try project.devenv(["lock"]).succeeded)
        let moved = try project.buildSteps(["build", "--json"])
        #expect(moved.contains { $0["summary"] as? String == "feature \(greeter):1" && $0["cached"] as? Bool == false }, "\(moved)")
        let after = try project.devenv(["run", "--", "cat", "/features-order"])
        #expect(after.stdout == "started-by-greeter\ncommon dev\ngreeter-v2\nlocal\n", "\(after.stdout) \(after.stderr)")
    }

    @Test(arguments: DevenvUser.allCases)
    func cyclesBadOptionsAndUngrantedPrivilegesAreSaid(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        try project.write(".devcontainer/a/devcontainer-feature.json", "{ \"id\": \"a\", \"dependsOn\": { \"./b\": {} } }")
        try project.write(".devcontainer/a/install.sh", "#!/bin/sh\n")
        try project.write(".devcontainer/b/devcontainer-feature.json", "{ \"id\": \"b\", \"dependsOn\": { \"./a\": {} } }")
        try project.write(".devcontainer/b/install.sh", "#!/bin/sh\n")
        try project.write(".devcontainer/devcontainer.json", "{\n  \"image\": \"\(bases.busybox)\",\n  \"features\": { \"./a\": {} }\n}\n")
        let cycle = try project.devenv(["build"])
        #expect(!cycle.succeeded)
        #expect(cycle.stderr.contains(".devcontainer/devcontainer.json:3:17: feature './a': the features depend on each other in a cycle: ./a -> ./b -> ./a"), "\(cycle.stderr)")

        try project.write(".devcontainer/c/devcontainer-feature.json", """
            { "id": "c", "privileged": true, "capAdd": ["SYS_PTRACE", "CHOWN"], "mounts": ["source=dind,target=/var/lib/docker,type=volume", "type=tmpfs,target=/t"],
              "options": { "mode": { "type": "string", "enum": ["fast", "safe"], "default": "safe" } } }
            """)
        try project.write(".devcontainer/c/install.sh", "#!/bin/sh\necho c > /c\n")
        try project.write(".devcontainer/devcontainer.json", "{\n  \"image\": \"\(bases.busybox)\",\n  \"features\": { \"./c\": { \"mode\": \"slow\" } }\n}\n")
        let badOption = try project.devenv(["build"])
        #expect(!badOption.succeeded)
        #expect(badOption.stderr.contains(".devcontainer/devcontainer.json:3:17: feature './c': option 'mode' is \"slow\", but must be one of \"fast\", \"safe\""), "\(badOption.stderr)")

        try project.write(".devcontainer/devcontainer.json", "{\n  \"image\": \"\(bases.busybox)\",\n  \"features\": { \"./c\": { \"mode\": \"fast\" } }\n}\n")
        let warned = try project.devenv(["build"])
        #expect(warned.succeeded, "\(warned.stderr)")
        let prefix = "devenv: warning: .devcontainer/devcontainer.json:3:17: feature './c'"
        #expect(warned.stderr.contains("\(prefix) asks for a privileged container"), "\(warned.stderr)")
        // CHOWN is in the default set; only SYS_PTRACE is named.
        #expect(warned.stderr.contains("\(prefix) asks for capabilities SYS_PTRACE; devenv grants only Docker's default set"), "\(warned.stderr)")
        #expect(warned.stderr.contains("\(prefix) asks for the mount 'type=tmpfs,target=/t', which is not applied: type=tmpfs mounts are not supported"), "\(warned.stderr)")
        #expect(!warned.stderr.contains("source=dind"), "a volume is applied, not warned about: \(warned.stderr)")
    }

    /// A volume made for a session belongs to its user: a user that is not root (here `-u`,
    /// as a `remoteUser` would be) writes its own command history, as the common devcontainer
    /// pattern expects.
    @Test(arguments: DevenvUser.allCases)
    func aNewVolumeIsItsUsersOwn(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        try project.write(".devcontainer/devcontainer.json", """
            { "image": "\(bases.busybox)",
              "mounts": ["source=history-${devcontainerId},target=/commandhistory,type=volume"] }

            """)
        let run = try project.devenv(["run", "-u", "1500", "--", "sh", "-c", "id -u && echo saved > /commandhistory/h && stat -c %u /commandhistory"])
        #expect(run.succeeded && run.stdout == "1500\n1500\n", "\(run.stdout)\(run.stderr)")
        let again = try project.devenv(["run", "-u", "1500", "--", "cat", "/commandhistory/h"])
        #expect(again.succeeded && again.stdout == "saved\n", "\(again.stdout)\(again.stderr)")
    }

    /// devcontainer.json's and a feature's `mounts` in sessions: named volumes (the project's,
    /// kept across sessions; `${devcontainerId}` substituted), binds of working-tree paths
    /// (`${localWorkspaceFolder}`); a feature's bind of another host path and other mount types
    /// are located warnings; a working-tree bind that a symlink leads out of the tree is refused.
    @Test(arguments: DevenvUser.allCases)
    func mountsOfTheProjectAndItsFeaturesAreApplied(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        try project.write(".devcontainer/tools/devcontainer-feature.json", """
            { "id": "tools", "mounts": ["source=tools-cache,target=/tools-cache,type=volume",
                                        { "type": "bind", "source": "${localWorkspaceFolder}/shared", "target": "/shared", "readonly": true },
                                        "source=/etc,target=/host-etc,type=bind"] }
            """)
        try project.write(".devcontainer/tools/install.sh", "#!/bin/sh\n")
        try project.write("shared/note.txt", "from the tree\n")
        try project.write("data/seed.txt", "seed\n")
        try project.write(".devcontainer/devcontainer.json", """
            {
              "image": "\(bases.busybox)",
              "features": { "./tools": {} },
              "mounts": ["source=cache-${devcontainerId},target=/cache,type=volume",
                         { "type": "bind", "source": "${localWorkspaceFolder}/data", "target": "/data" },
                         "type=tmpfs,target=/scratch"]
            }

            """)
        let first = try project.devenv(["run", "--", "sh", "-c",
                                        "echo kept > /cache/f && echo tools > /tools-cache/g && cat /data/seed.txt /shared/note.txt && "
                                        + "(echo x > /shared/x 2>/dev/null && echo writable || echo read-only) && (test -e /host-etc && echo bound || echo absent)"])
        #expect(first.succeeded, "\(first.stderr)")
        #expect(first.stdout == "seed\nfrom the tree\nread-only\nabsent\n", "\(first.stdout)")
        #expect(first.stderr.contains(".devcontainer/devcontainer.json:6:14: 'mounts' is ignored: type=tmpfs mounts are not supported (only bind and volume); ignored"), "\(first.stderr)")
        #expect(first.stderr.contains(".devcontainer/devcontainer.json:3:17: feature './tools' asks for the mount 'source=/etc,target=/host-etc,type=bind', which is not applied: a feature may bind only paths of the working tree"), "\(first.stderr)")

        let second = try project.devenv(["run", "--", "cat", "/cache/f", "/tools-cache/g"])
        #expect(second.succeeded && second.stdout == "kept\ntools\n", "\(second.stdout) \(second.stderr)")

        // A tree path a symlink leads out of the tree is refused, naming the mount.
        try FileManager.default.removeItem(atPath: "\(project.root)/data")
        #expect(symlink("/etc", "\(project.root)/data") == 0)
        let escaped = try project.devenv(["run", "--", "true"])
        #expect(!escaped.succeeded)
        #expect(escaped.stderr.contains(".devcontainer/devcontainer.json: mount at /data: 'data' leads outside the project (to '/etc') through a symlink"), "\(escaped.stderr)")
    }

    /// A feature layer that writes outside its directory, and an artifact of another type,
    /// are refused with the reference and the reason; nothing lands outside.
    @Test(arguments: DevenvUser.allCases)
    func hostileAndForeignArtifactsAreRefused(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["docker-registry", "curl", "tar"])
        let registry = try TestRegistry()
        defer { registry.stop() }
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        let published = try Scratch("features")
        try Self.feature(published.file("evil"), metadata: "{ \"id\": \"evil\" }", install: "#!/bin/sh\n")
        try "escaped\n".write(toFile: published.file("evil/escape"), atomically: false, encoding: .utf8)
        try FeaturePublisher.publish(published.file("evil"), to: registry, repository: "feat/evil", tag: "1",
                                     tarArguments: ["-P", "--transform", "s,^\\./escape,../../../escape,"])
        try FeaturePublisher.publish(published.file("evil"), to: registry, repository: "feat/image", tag: "1",
                                     configType: "application/vnd.oci.image.config.v1+json")

        try project.write(".devcontainer/devcontainer.json", "{\n  \"image\": \"\(bases.busybox)\",\n  \"features\": { \"\(registry.authority)/feat/evil:1\": {} }\n}\n")
        let hostile = try project.devenv(["build"])
        #expect(!hostile.succeeded)
        #expect(hostile.stderr.contains(".devcontainer/devcontainer.json:3:17: feature '\(registry.authority)/feat/evil:1': "), "\(hostile.stderr)")
        #expect(hostile.stderr.contains("'..' climbs above the root"), "\(hostile.stderr)")
        let escaped = try DevenvProcess.run("find", [bases.store, project.root, "-name", "escape"])
        #expect(escaped.stdout.isEmpty, "\(escaped.stdout)")

        try project.write(".devcontainer/devcontainer.json", "{\n  \"image\": \"\(bases.busybox)\",\n  \"features\": { \"\(registry.authority)/feat/image:1\": {} }\n}\n")
        let foreign = try project.devenv(["build"])
        #expect(!foreign.succeeded)
        #expect(foreign.stderr.contains("its config is application/vnd.oci.image.config.v1+json, not application/vnd.devcontainers"), "\(foreign.stderr)")
    }

    /// A feature as a direct archive URL (here the registry's own blob URL, on loopback, so
    /// plain http is allowed as for a registry): installed, locked by its digest, and a lock
    /// that no longer matches the archive stops the build.
    @Test(arguments: DevenvUser.allCases)
    func archiveFeatureIsFetchedAndPinnedByIntegrity(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["docker-registry", "curl", "tar"])
        let registry = try TestRegistry()
        defer { registry.stop() }
        let bases = try ConformanceBases(as: user)
        let project = try FixtureProject(nil, bases: bases)
        let published = try Scratch("features")
        try Self.feature(published.file("archived"), metadata: "{ \"id\": \"archived\", \"version\": \"0.9.0\" }",
                         install: "#!/bin/sh\necho from-archive > /from-archive\n")
        let layer = try FeaturePublisher.publish(published.file("archived"), to: registry, repository: "feat/archived", tag: "1").layer
        let url = "http://\(registry.authority)/v2/feat/archived/blobs/\(layer)"
        try project.write(".devcontainer/devcontainer.json", "{\n  \"image\": \"\(bases.busybox)\",\n  \"features\": { \"\(url)\": {} }\n}\n")
        let built = try project.devenv(["build"])
        #expect(built.succeeded, "\(built.stderr)")
        let run = try project.devenv(["run", "--", "cat", "/from-archive"])
        #expect(run.stdout == "from-archive\n", "\(run.stderr)")

        #expect(try project.devenv(["lock"]).succeeded)
        let lockPath = "\(project.root)/.devcontainer/devcontainer-lock.json"
        let lock = try String(contentsOfFile: lockPath, encoding: .utf8)
        #expect(lock.contains("\"integrity\" : \"\(layer)\""), "\(lock)")
        #expect(lock.contains("\"resolved\" : \"\(url)\""), "\(lock)")
        let wrong = "sha256:" + String(repeating: "0", count: 64)
        // The URL holds the digest too: only the integrity changes.
        try lock.replacingOccurrences(of: "\"integrity\" : \"\(layer)\"", with: "\"integrity\" : \"\(wrong)\"")
            .write(toFile: lockPath, atomically: false, encoding: .utf8)
        let mismatch = try project.devenv(["build"])
        #expect(!mismatch.succeeded)
        #expect(mismatch.stderr.contains("the archive is now \(layer), not the \(wrong) devcontainer-lock.json pins"), "\(mismatch.stderr)")

        try project.write(".devcontainer/devcontainer.json", "{\n  \"image\": \"\(bases.busybox)\",\n  \"features\": { \"http://example.invalid/f.tgz\": {} }\n}\n")
        let plain = try project.devenv(["build"])
        #expect(plain.stderr.contains("is not https (plain http only for loopback or insecure-listed hosts)"), "\(plain.stderr)")
    }

    /// The shape of the common public features (devcontainers/features): checks for root and
    /// apt, installs a Debian package only when missing, writes a tool to /usr/local/bin.
    @Test(arguments: DevenvUser.allCases)
    func aptFeatureOnBookworm(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["podman"])
        let bases = try ConformanceBases(as: user)
        guard let bookworm = try bases.bookworm() else {
            throw DevenvProcess.Missing(what: "image \(ConformanceBases.bookwormName) in podman's storage (the peers setup creates it)")
        }
        let project = try FixtureProject(nil, bases: bases)
        try project.write(".devcontainer/tree/devcontainer-feature.json", """
            { "id": "tree", "version": "1.0.0", "name": "tree",
              "options": { "alias": { "type": "string", "proposals": ["t"], "default": "t" } },
              "installsAfter": ["ghcr.io/devcontainers/features/common-utils"] }
            """)
        try project.write(".devcontainer/tree/install.sh", #"""
            #!/usr/bin/env bash
            set -e
            ALIAS="${ALIAS:-"t"}"
            if [ "$(id -u)" -ne 0 ]; then
                echo -e 'Script must be run as root. Use sudo, su, or add "USER root" to your Dockerfile before running this script.'
                exit 1
            fi
            . /etc/os-release
            if ! type apt-get > /dev/null 2>&1; then
                echo "(!) Unsupported distribution ${ID}: this feature needs apt-get"
                exit 1
            fi
            export DEBIAN_FRONTEND=noninteractive
            check_packages() {
                if ! dpkg -s "$@" > /dev/null 2>&1; then
                    if ! ls /var/lib/apt/lists/*_Packages > /dev/null 2>&1; then
                        echo "Running apt-get update..."
                        apt-get update -y
                    fi
                    apt-get -y install --no-install-recommends "$@"
                fi
            }
            check_packages tree
            cat > "/usr/local/bin/${ALIAS}" << EOF
            #!/bin/sh
            exec tree "\$@"
            EOF
            chmod +x "/usr/local/bin/${ALIAS}"
            rm -rf /var/lib/apt/lists/*
            echo "Done!"
            """#)
        try project.write(".devcontainer/devcontainer.json", "{ \"image\": \"\(bookworm)\", \"features\": { \"./tree\": { \"alias\": \"lstree\" } } }\n")
        let built = try project.devenv(["build"])
        #expect(built.succeeded, "\(built.stderr)")
        let run = try project.devenv(["run", "--", "lstree", "--version"])
        #expect(run.succeeded, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("tree v"), "\(run.stdout)")
    }
}
