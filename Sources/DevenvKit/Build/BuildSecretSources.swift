import DevenvManifest
import DevenvPlan

extension Project {
    /// The files the manifest's `secrets` name, by id, with `~` at `home`. Two steps may
    /// name one id only with one file.
    public func buildSecrets(home: String?) throws -> BuildSecrets {
        var sources = BuildSecrets()
        for step in manifest.steps {
            guard case let .run(run) = step.action else { continue }
            for secret in run.secrets {
                let path: String
                switch secret.source {
                case let .absolute(absolute): path = absolute
                case let .home(rest):
                    guard let home else { throw KitError.buildSecret(id: secret.id, problem: "src \(secret.source) is under ~, but no home directory is known") }
                    path = rest.isEmpty ? home : "\(home)/\(rest)"
                }
                if let other = sources.secrets[secret.id], other != .file(path) {
                    throw KitError.buildSecret(id: secret.id, problem: "\(secret.location): names another file than an earlier step")
                }
                sources.secrets[secret.id] = .file(path)
            }
        }
        return sources
    }
}
