import DevenvAdopt
import DevenvBuild
import DevenvManifest
import DevenvOCI
import DevenvSeccomp
import Foundation

/// A devcontainer.json's features, fetched, with their `dependsOn` pulled in, checked and
/// ordered: what the build installs and what sessions run.
public struct ResolvedFeatures: Sendable {
    public var installs: [FeatureInstall]
    /// Container path -> host directory of each feature's files, for its install step.
    var sources: [String: String]
    /// `path:line:column: feature 'ref': why something it asks for is not honoured`.
    public var warnings: [String]
    /// Every OCI feature's pin, for devcontainer-lock.json and devenv's lock.
    public var lock: DevContainerLock
    /// The features' create and start commands, in install order (before the project's own).
    var createCommands: [DevContainerConfig.LifecycleCommand]
    var startCommands: [DevContainerConfig.LifecycleCommand]
    /// The features' volumes and working-tree binds, for sessions.
    var mounts = FeatureMounts()

    static let none = ResolvedFeatures(installs: [], sources: [:], warnings: [], lock: DevContainerLock(), createCommands: [], startCommands: [])
}

struct FeatureResolver {
    let project: DevContainerProject
    let fetcher: FeatureFetcher

    private var configDirectory: String { ("\(project.root)/\(project.displayPath)" as NSString).deletingLastPathComponent }

    private struct Entry {
        var request: FeatureRequest
        var source: FeatureSource
        var fetched: FetchedFeature
        /// Where devcontainer.json asks for it, directly or through a dependent.
        var location: SourceLocation
    }

    func resolve() throws -> ResolvedFeatures {
        let config = project.config
        guard !config.features.isEmpty else { return .none }
        var entries: [Entry] = []
        var seen = Set<String>()
        var queue = config.features.map { ($0, $0.location) }
        while !queue.isEmpty {
            let (request, location) = queue.removeFirst()
            let source = try located(location, request.reference) {
                try FeatureSource.classify(request.reference, configDirectory: configDirectory, root: project.root)
            }
            // The project's own entry for a feature wins over a dependency's.
            guard seen.insert(source.key).inserted else { continue }
            let fetched = try located(location, request.reference) { try fetcher.fetch(source, reference: request.reference) }
            entries.append(Entry(request: request, source: source, fetched: fetched, location: location))
            queue += fetched.metadata.dependsOn.map { ($0, location) }
        }
        let order = try sorted(entries, override: config.featureInstallOrder)
        var resolved = ResolvedFeatures.none
        for (number, index) in order.enumerated() {
            let entry = entries[index]
            let metadata = entry.fetched.metadata
            let options = try located(entry.location, entry.request.reference) {
                try FeatureOptions.environment(metadata, requested: entry.request.options)
            }
            let mount = "/tmp/build-features-src/\(metadata.id)_\(number + 1)"
            resolved.installs.append(FeatureInstall(reference: entry.request.reference, metadata: metadata, digest: entry.fetched.digest.description,
                                                    options: options, sourceMount: mount, location: entry.location))
            resolved.sources[mount] = entry.fetched.directory
            resolved.warnings += warnings(metadata, entry)
            for text in metadata.mounts {
                if let reason = resolved.mounts.add(project.config.featureMount(text), root: project.root) {
                    resolved.warnings.append("\(place(entry.location)): feature '\(Printable.escape(entry.request.reference, limit: 200))' asks for the mount '\(Printable.escape(text, limit: 200))', which is not applied: \(reason)")
                }
            }
            resolved.createCommands += metadata.createCommands.map { relocated($0, entry) }
            resolved.startCommands += metadata.startCommands.map { relocated($0, entry) }
            if let pin = entry.fetched.resolved {
                resolved.lock.features[entry.request.reference] = DevContainerLock.Entry(version: metadata.version ?? "", resolved: pin,
                                                                                          integrity: entry.fetched.digest.description)
            }
        }
        return resolved
    }

    private func sorted(_ entries: [Entry], override: [String]) throws -> [Int] {
        let key = { (reference: String) in FeatureSource.key(of: reference, configDirectory: configDirectory, root: project.root) }
        let nodes = entries.map { entry in
            FeatureOrder.Node(key: entry.source.key, reference: entry.request.reference,
                              dependsOn: entry.fetched.metadata.dependsOn.map { key($0.reference) },
                              installsAfter: entry.fetched.metadata.installsAfter.map(key),
                              options: entry.request.options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        }
        do {
            return try FeatureOrder.sort(nodes, override: override.map(key))
        } catch {
            throw KitError.feature(location: place(entries[0].location), reference: entries[0].request.reference, reason: error.description)
        }
    }

    /// A feature's lifecycle command, named after the feature and located at its request.
    private func relocated(_ command: DevContainerConfig.LifecycleCommand, _ entry: Entry) -> DevContainerConfig.LifecycleCommand {
        var command = command
        command.name = "\(entry.fetched.metadata.id).\(command.name)"
        command.location = entry.location
        return command
    }

    /// What the feature asks of the container that devenv does not grant: said, not dropped silently.
    private func warnings(_ metadata: FeatureMetadata, _ entry: Entry) -> [String] {
        let prefix = "\(place(entry.location)): feature '\(Printable.escape(entry.request.reference, limit: 200))'"
        var warnings: [String] = []
        if metadata.privileged {
            warnings.append("\(prefix) asks for a privileged container; devenv containers run with a fixed, confined set of privileges, so what needs it will fail")
        }
        let extra = metadata.capAdd.filter { name in
            guard let capability = try? Capability.parse(name) else { return true }
            return !CapabilitySet.dockerDefault.contains(capability)
        }
        if !extra.isEmpty {
            warnings.append("\(prefix) asks for capabilities \(extra.map { Printable.escape($0, limit: 64) }.joined(separator: ", ")); devenv grants only Docker's default set")
        }
        if !metadata.securityOpt.isEmpty {
            warnings.append("\(prefix) asks for security options \(metadata.securityOpt.map { Printable.escape($0, limit: 64) }.joined(separator: ", ")); devenv keeps its seccomp profile and no-new-privileges")
        }
        if let entrypoint = metadata.entrypoint {
            warnings.append("\(prefix) has the entrypoint '\(Printable.escape(entrypoint, limit: 200))'; devenv sessions start under devenv's own init and do not run it (run it from postStartCommand if needed)")
        }
        return warnings
    }

    private func located<T>(_ location: SourceLocation, _ reference: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let problem as FeatureProblem {
            throw KitError.feature(location: place(location), reference: reference, reason: problem.description)
        } catch let error as KitError {
            throw error
        } catch {
            throw KitError.feature(location: place(location), reference: reference, reason: "\(error)")
        }
    }

    private func place(_ location: SourceLocation) -> String {
        "\(project.displayPath):\(location.line):\(location.column)"
    }
}
