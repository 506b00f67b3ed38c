import FoundationEssentials

/// The OCI image configuration: how to run the image and which uncompressed layers
/// (`rootfs.diff_ids`) make up its filesystem.
public struct ImageConfig: Codable, Hashable, Sendable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: RunConfig?
    public var rootfs: RootFS
    public var history: [History]?

    public init(platform: Platform = .host, config: RunConfig? = RunConfig(), diffIDs: [Digest] = [], history: [History]? = nil, created: String? = nil) {
        self.architecture = platform.architecture
        self.os = platform.os
        self.variant = platform.variant
        self.config = config
        self.rootfs = RootFS(diffIDs: diffIDs)
        self.history = history
        self.created = created
    }

    public struct RunConfig: Codable, Hashable, Sendable {
        public var user: String?
        public var env: [String]?
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var workingDir: String?
        public var labels: [String: String]?
        public var stopSignal: String?
        public var exposedPorts: [String: EmptyObject]?
        public var volumes: [String: EmptyObject]?
        /// Docker's fields, which the OCI spec does not define: BuildKit writes them into OCI
        /// configs too (buildah's OCI format drops them), and Docker and podman honour them.
        public var healthcheck: Healthcheck?
        public var onBuild: [String]?

        enum CodingKeys: String, CodingKey {
            case user = "User", env = "Env", entrypoint = "Entrypoint", cmd = "Cmd"
            case workingDir = "WorkingDir", labels = "Labels", stopSignal = "StopSignal"
            case exposedPorts = "ExposedPorts", volumes = "Volumes"
            case healthcheck = "Healthcheck", onBuild = "OnBuild"
        }

        public init(user: String? = nil, env: [String]? = nil, entrypoint: [String]? = nil, cmd: [String]? = nil, workingDir: String? = nil, labels: [String: String]? = nil) {
            self.user = user
            self.env = env
            self.entrypoint = entrypoint
            self.cmd = cmd
            self.workingDir = workingDir
            self.labels = labels
        }
    }

    /// Docker's HEALTHCHECK: `Test` is `["NONE"]`, `["CMD", argv...]` or `["CMD-SHELL", command]`;
    /// durations are nanoseconds, and zero (the default) is left out as Docker leaves it out.
    public struct Healthcheck: Codable, Hashable, Sendable {
        public var test: [String]
        public var interval: Int64?
        public var timeout: Int64?
        public var startPeriod: Int64?
        public var startInterval: Int64?
        public var retries: Int?

        enum CodingKeys: String, CodingKey {
            case test = "Test", interval = "Interval", timeout = "Timeout", startPeriod = "StartPeriod"
            case startInterval = "StartInterval", retries = "Retries"
        }

        public init(test: [String], interval: Int64? = nil, timeout: Int64? = nil, startPeriod: Int64? = nil,
                    startInterval: Int64? = nil, retries: Int? = nil) {
            self.test = test
            self.interval = interval
            self.timeout = timeout
            self.startPeriod = startPeriod
            self.startInterval = startInterval
            self.retries = retries
        }
    }

    public struct EmptyObject: Codable, Hashable, Sendable {
        public init() {}
    }

    public struct RootFS: Codable, Hashable, Sendable {
        public var type: String = "layers"
        public var diffIDs: [Digest]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }

        public init(diffIDs: [Digest]) { self.diffIDs = diffIDs }
    }

    public struct History: Codable, Hashable, Sendable {
        public var created: String?
        public var createdBy: String?
        public var comment: String?
        public var emptyLayer: Bool?

        enum CodingKeys: String, CodingKey {
            case created, comment
            case createdBy = "created_by"
            case emptyLayer = "empty_layer"
        }

        public init(created: String? = nil, createdBy: String? = nil, comment: String? = nil, emptyLayer: Bool? = nil) {
            self.created = created
            self.createdBy = createdBy
            self.comment = comment
            self.emptyLayer = emptyLayer
        }
    }

    public var platform: Platform { Platform(architecture: architecture, os: os, variant: variant) }

    /// Chain ids identify a stack of layers: the snapshot for layer n is keyed by the chain
    /// id of layers 0...n, so a shared prefix of layers is unpacked once.
    public var chainIDs: [Digest] { ChainID.compute(rootfs.diffIDs) }

    public func validate(layerCount: Int) throws {
        guard rootfs.type == "layers" else {
            throw OCIError.invalidDocument(what: "image config", reason: "rootfs.type \(Printable.quoted(rootfs.type)) is not 'layers'")
        }
        guard rootfs.diffIDs.count == layerCount else {
            throw OCIError.invalidDocument(what: "image config", reason: "\(rootfs.diffIDs.count) diff_ids for \(layerCount) layers")
        }
    }
}

public enum ChainID {
    public static func compute(_ diffIDs: [Digest]) -> [Digest] {
        var result: [Digest] = []
        result.reserveCapacity(diffIDs.count)
        for diffID in diffIDs {
            if let parent = result.last {
                result.append(Digest.sha256(Data("\(parent) \(diffID)".utf8)))
            } else {
                result.append(diffID)
            }
        }
        return result
    }
}
