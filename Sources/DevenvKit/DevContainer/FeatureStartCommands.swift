import DevenvAdopt
import DevenvManifest
import Foundation

/// The features' `postStartCommand`/`postAttachCommand`, kept in the image's labels so a
/// session runs them without fetching the features again (as the reference
/// implementation keeps feature metadata in the image's `devcontainer.metadata` label).
enum FeatureStartCommands {
    static let labelKey = "dev.devenv.devcontainer.feature-start-commands"

    /// A JSON array of argv arrays.
    static func label(_ commands: [DevContainerConfig.LifecycleCommand]) -> String {
        let data = (try? JSONEncoder().encode(commands.map(\.command.arguments))) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// A label devenv did not write (or that does not decode) adds nothing.
    static func read(_ label: String?) -> [Manifest.Command] {
        guard let label, let argvs = try? JSONDecoder().decode([[String]].self, from: Data(label.utf8)) else { return [] }
        return argvs.filter { !$0.isEmpty }.map { .argv($0) }
    }
}
