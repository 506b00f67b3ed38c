/// One entry of the `manifest.json` in a `docker save` archive.
struct DockerArchiveManifest: Codable {
    var config: String
    var repoTags: [String]?
    var layers: [String]

    enum CodingKeys: String, CodingKey {
        case config = "Config", repoTags = "RepoTags", layers = "Layers"
    }
}
