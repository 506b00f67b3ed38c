import Foundation

/// Publishes a directory as a Dev Container Feature to a `TestRegistry`, the way
/// `devcontainer features publish` (and oras) lay it out: a tar of the directory as the one
/// layer (`application/vnd.devcontainers.layer.v1+tar`), an empty JSON config
/// (`application/vnd.devcontainers`), an OCI image manifest; monolithic blob uploads
/// (distribution spec) through curl, independent of devenv's own registry client.
enum FeaturePublisher {
    /// Pushes `directory` as `repository:tag`; returns the manifest's and the layer's digests (`sha256:…`).
    @discardableResult
    /// `tarArguments` shape the layer (a hostile one); `configType` replaces the spec's config media type.
    static func publish(_ directory: String, to registry: TestRegistry, repository: String, tag: String,
                        tarArguments: [String] = [], configType: String = "application/vnd.devcontainers") throws -> (manifest: String, layer: String) {
        let scratch = try Scratch("feature-publish")
        let layer = scratch.file("feature.tar")
        _ = try Tools.run("tar", ["--sort=name", "--mtime=@1700000000", "--owner=0", "--group=0", "--numeric-owner"] + tarArguments
                                 + ["-C", directory, "-cf", layer, "."])
        let config = scratch.file("config.json")
        try Data("{}".utf8).write(to: URL(fileURLWithPath: config))
        let base = "http://\(registry.authority)/v2/\(repository)"
        let layerDigest = try upload(layer, base: base)
        let configDigest = try upload(config, base: base)
        let manifest = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"\(configType)","digest":"\(configDigest)","size":2},\
            "layers":[{"mediaType":"application/vnd.devcontainers.layer.v1+tar","digest":"\(layerDigest)","size":\(try size(layer)),\
            "annotations":{"org.opencontainers.image.title":"devcontainer-feature.tgz"}}]}
            """
        let manifestFile = scratch.file("manifest.json")
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: manifestFile))
        let status = try Tools.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT",
                                            "-H", "Content-Type: application/vnd.oci.image.manifest.v1+json",
                                            "--data-binary", "@\(manifestFile)", "\(base)/manifests/\(tag)"])
        guard status == "201" else { throw TestFailure("PUT manifest \(repository):\(tag): HTTP \(status)") }
        return (try digest(manifestFile), layerDigest)
    }

    private static func upload(_ file: String, base: String) throws -> String {
        let digest = try digest(file)
        let headers = try Tools.run("curl", ["-sS", "-D", "-", "-o", "/dev/null", "-X", "POST", "\(base)/blobs/uploads/"])
        guard let line = headers.split(whereSeparator: \.isNewline).first(where: { $0.lowercased().hasPrefix("location:") }) else {
            throw TestFailure("POST \(base)/blobs/uploads/ gave no Location: \(headers)")
        }
        var location = line.dropFirst("location:".count).trimmingCharacters(in: .whitespaces)
        if location.hasPrefix("/") { location = base.components(separatedBy: "/v2/")[0] + location }
        let separator = location.contains("?") ? "&" : "?"
        let status = try Tools.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT",
                                            "-H", "Content-Type: application/octet-stream", "--data-binary", "@\(file)",
                                            "\(location)\(separator)digest=\(digest)"])
        guard status == "201" else { throw TestFailure("PUT blob \(digest): HTTP \(status)") }
        return digest
    }

    private static func digest(_ file: String) throws -> String {
        "sha256:" + (try Tools.run("sha256sum", [file]).split(separator: " ").first.map(String.init) ?? "")
    }

    private static func size(_ file: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
    }
}
