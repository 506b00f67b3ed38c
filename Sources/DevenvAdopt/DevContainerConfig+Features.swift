import DevenvManifest
import Foundation

extension DevContainerConfig {
    /// `features` and `overrideFeatureInstallOrder`; the features themselves are fetched
    /// and read by the Kit (`FeatureResolver`).
    mutating func readFeatures(_ json: DevContainerJSON, diagnostics: inout [Diagnostic]) {
        features = FeatureRequest.readAll(json["features"], key: "features", diagnostics: &diagnostics)
        featureInstallOrder = FeatureRequest.readStrings(json["overrideFeatureInstallOrder"], key: "overrideFeatureInstallOrder", diagnostics: &diagnostics)
    }
}

extension DevContainerConfig {
    /// `build.options`, the `docker build` flags: `--build-arg` and `--target` are what
    /// devenv's Dockerfile build has; `--network=host` is what it does anyway; every other
    /// flag is one warning (with its value).
    mutating func readBuildOptions(_ node: DevContainerJSON?, path: String, diagnostics: inout [Diagnostic]) {
        guard let node else { return }
        let words = FeatureRequest.readStrings(node, key: "build.options", diagnostics: &diagnostics)
        guard case var .dockerfile(dockerfile) = base else { return }
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            var name = word
            var value: String?
            if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                value = String(word[word.index(after: equals)...])
            }
            let valueFlags: Set<String> = ["--build-arg", "--target", "--network", "--platform", "--label", "--add-host", "--secret",
                                           "--ssh", "--cache-from", "--cache-to", "--output", "-o", "--progress", "--shm-size", "--ulimit", "-f", "--file", "-t", "--tag"]
            if value == nil, valueFlags.contains(name), index < words.count {
                value = words[index]
                index += 1
            }
            let argument = value?.split(separator: "=", maxSplits: 1).map(String.init) ?? []
            switch (name, value) {
            case ("--build-arg", _?) where argument.count == 2:
                dockerfile.args.removeAll { $0.name == argument[0] }
                dockerfile.args.append(Manifest.EnvironmentVariable(name: argument[0], value: argument[1], location: node.location))
            case let ("--target", value?) where dockerfile.target == nil:
                dockerfile.target = Located(value, at: node.location, width: node.width)
            case ("--network", "host"?):
                continue
            default:
                let written = value.map { word.contains("=") ? word : "\(word) \($0)" } ?? word
                warnings.append("\(path):\(node.location.line):\(node.location.column): 'build.options' '\(Printable.escape(written, limit: 128))' is ignored: devenv's Dockerfile build has no such option")
            }
        }
        base = .dockerfile(dockerfile)
    }
}
