import DevenvManifest
import DevenvPlan
import Foundation

/// A feature ready to install: what it is, where its files are during its step, and the
/// options it installs with.
public struct FeatureInstall: Sendable {
    /// The reference as devcontainer.json (or a `dependsOn`) wrote it.
    public var reference: String
    public var metadata: FeatureMetadata
    /// The content digest of the feature (the OCI layer, the tarball, or the local directory's files).
    public var digest: String
    /// `NAME=value` for install.sh (`FeatureOptions.environment`).
    public var options: [EnvironmentVariable]
    /// Where the feature's files are mounted while its step runs.
    public var sourceMount: String
    /// Where devcontainer.json asks for it (a `dependsOn`: where its dependent is asked for).
    public var location: SourceLocation

    public init(reference: String, metadata: FeatureMetadata, digest: String, options: [EnvironmentVariable],
                sourceMount: String, location: SourceLocation) {
        self.reference = reference
        self.metadata = metadata
        self.digest = digest
        self.options = options
        self.sourceMount = sourceMount
        self.location = location
    }

    /// The steps that install `features` in order, as the spec says: as root, each
    /// feature's `containerEnv` first (in the image, so later features and shells see it),
    /// then its install.sh with its options and the `_REMOTE_USER`/`_CONTAINER_USER`
    /// variables; the image's own user (`baseUser`) is restored after. Each install step
    /// comes with the `sourceMount` its feature's files must be mounted at.
    public static func steps(_ features: [FeatureInstall], baseUser: String?, containerUser: String?, remoteUser: String?) -> [(step: LoweredStep, sourceMount: String?)] {
        guard let first = features.first, let last = features.last else { return [] }
        var steps: [(step: LoweredStep, sourceMount: String?)] = []
        let imageUser = baseUser.flatMap { $0.isEmpty ? nil : $0 }
        let container = containerUser ?? imageUser ?? "root"
        let remote = remoteUser ?? container
        let switchUser = imageUser != nil && imageUser != "root" && imageUser != "0"
        if switchUser { steps.append((lowered(.config([.user("root")]), "user root", first.location), nil)) }
        for (index, feature) in features.enumerated() {
            if !feature.metadata.containerEnv.isEmpty {
                let step = Step.config([.env(feature.metadata.containerEnv, expands: true)])
                steps.append((lowered(step, DockerfileWords.definition(of: step), feature.location), nil))
            }
            let run = RunStep(command: ["/bin/sh", "-c", feature.script(number: index + 1, containerUser: container, remoteUser: remote)])
            steps.append((lowered(.run(run), "feature \(feature.reference)", feature.location), feature.sourceMount))
        }
        if switchUser { steps.append((lowered(.config([.user(imageUser ?? "")]), "user \(imageUser ?? "")", last.location), nil)) }
        return steps
    }

    private static func lowered(_ step: Step, _ definition: String, _ location: SourceLocation) -> LoweredStep {
        LoweredStep(step: step, definition: definition, location: location)
    }

    /// The install script, as the reference implementation runs it: a private copy of the
    /// feature's files, its options and users in the environment, install.sh from there,
    /// the copy removed after. The digest is part of the text, so of the step's cache key.
    func script(number: Int, containerUser: String, remoteUser: String) -> String {
        let directory = "/tmp/dev-container-features/\(metadata.id)_\(number)"
        let quote = RunStep.shellQuote
        var lines = [
            "set -e",
            "# feature \(reference.replacingOccurrences(of: "\n", with: " ")) \(digest)",
            "rm -rf \(quote(directory)) && mkdir -p \(quote(directory))",
            "cp -R \(quote(sourceMount))/. \(quote(directory))/",
            "cd \(quote(directory))",
        ]
        lines += options.map { "export \($0.name)=\(quote($0.value))" }
        lines += [
            "home_of() { awk -F: -v u=\"$1\" '$1 == u { print $6; exit }' /etc/passwd; }",
            "export _CONTAINER_USER=\(quote(containerUser)) _REMOTE_USER=\(quote(remoteUser))",
            "_CONTAINER_USER_HOME=$(home_of \"$_CONTAINER_USER\"); _REMOTE_USER_HOME=$(home_of \"$_REMOTE_USER\")",
            // An account the image lacks gets the home useradd would give it.
            "default_home() { if [ \"$1\" = root ]; then echo /root; else echo \"/home/$1\"; fi; }",
            "export _CONTAINER_USER_HOME=\"${_CONTAINER_USER_HOME:-$(default_home \"$_CONTAINER_USER\")}\" _REMOTE_USER_HOME=\"${_REMOTE_USER_HOME:-$(default_home \"$_REMOTE_USER\")}\"",
            "chmod +x ./install.sh",
            "./install.sh",
            "cd / && rm -rf \(quote(directory))",
        ]
        return lines.joined(separator: "\n")
    }
}
