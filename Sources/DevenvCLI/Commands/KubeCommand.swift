import ArgumentParser
import DevenvKit
import DevenvOCI
import DevenvSystem
import Foundation

struct KubeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube",
        abstract: "Describe the project's environment for a Kubernetes cluster.",
        subcommands: [KubeGenerateCommand.self]
    )
}

struct KubeGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Print a Kubernetes Pod (or Deployment) running the environment image pushed by `devenv build --push`, with the services as containers beside it.",
        discussion: "Named volumes become PersistentVolumeClaims; the working tree is cloned at the current commit by an init container, or mounted from the node with --workspace host. See docs/kubernetes.md."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "A Deployment of one replica instead of a Pod.")
    var deployment = false

    @Option(help: ArgumentHelp("Where the working tree comes from: clone (the repository's remote, at HEAD) or host (a hostPath of the project directory).", valueName: "clone|host"))
    var workspace: String = "clone"

    @Option(help: ArgumentHelp("The image whose git clones the working tree (default: the environment image).", valueName: "IMAGE"))
    var cloneImage: String?

    @Option(help: ArgumentHelp("The storage each named volume's claim requests.", valueName: "QUANTITY"))
    var volumeSize: String = "1Gi"

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write the YAML to FILE instead of standard output.", valueName: "FILE"))
    var output: String?

    func validate() throws {
        guard KubeExport.WorkspaceSource(rawValue: workspace) != nil else { throw ValidationError("--workspace must be clone or host") }
        if let cloneImage {
            do { _ = try Reference(parsing: cloneImage) } catch { throw ValidationError("--clone-image: \(error)") }
        }
        guard Self.isQuantity(volumeSize) else {
            throw ValidationError("--volume-size must be a Kubernetes quantity such as 1Gi or 500Mi")
        }
    }

    /// A Kubernetes quantity as claims take it: digits, an optional fraction, an optional unit.
    static func isQuantity(_ text: String) -> Bool {
        let units = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E"]
        let number = units.first(where: text.hasSuffix).map { String(text.dropLast($0.count)) } ?? text
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count <= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    func run() throws {
        try reportingErrors {
            let engine = try global.engine()
            let project = try ServiceLauncher.project(command: "kube generate")
            var options = KubeExport.Options()
            options.kind = deployment ? .deployment : .pod
            options.workspace = KubeExport.WorkspaceSource(rawValue: workspace) ?? .clone
            options.cloneImage = cloneImage
            options.volumeSize = volumeSize
            let generated = try KubeExport(engine: engine, project: project).generate(options)
            for note in generated.notes { Terminal.note("note: \(note)") }
            guard let output else { return Terminal.print(String(generated.text.dropLast())) }
            try AtomicFile.write(Data(generated.text.utf8), to: output)
        }
    }
}
