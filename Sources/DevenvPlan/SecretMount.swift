import DevenvText

/// A build secret, or the SSH agent, that a run step may use while it runs (`RUN
/// --mount=type=secret|ssh`, a manifest step's `secrets`). Only the id and where it appears
/// are part of the step, and so of its cache key; the content comes from the build's
/// `BuildSecrets` when the step runs and enters no layer, config, history, record or key.
public struct SecretMount: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable { case secret, ssh }

    public var kind: Kind
    /// The name the build's sources know it by (`--secret id=…`, `--ssh default`).
    public var id: String
    /// Absolute container path of the file (or agent socket); nil: only `environmentName`.
    public var target: String?
    /// BuildKit's `env=`: the secret's content as this variable of the step's command.
    public var environmentName: String?
    /// A step whose secret has no source fails instead of running without it.
    public var required: Bool
    /// BuildKit's `uid=`, `gid=` and `mode=` of a secret's file; nil: the step user's ids, 0400.
    /// (Absent from the encoding when nil, so steps without them keep their cache keys.)
    public var uid: UInt32?
    public var gid: UInt32?
    public var mode: UInt32?

    public init(kind: Kind, id: String, target: String?, environmentName: String? = nil, required: Bool = false,
                uid: UInt32? = nil, gid: UInt32? = nil, mode: UInt32? = nil) {
        self.kind = kind
        self.id = id
        self.target = target
        self.environmentName = environmentName
        self.required = required
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }

    /// The mode a secret's file has without `mode=`: its owner reads it, nobody else.
    public static let defaultMode: UInt32 = 0o400

    /// BuildKit's default place of a secret.
    public static func defaultTarget(id: String) -> String { "/run/secrets/" + id }

    /// BuildKit's default place of the `index`th SSH agent socket of a step.
    public static func defaultAgentTarget(index: Int) -> String { "/run/buildkit/ssh_agent.\(index)" }
}

/// Where a build's secrets come from, by id: files and environment variables of the host
/// (`devenv build --secret`, a manifest step's `src`), and SSH agent sockets (`--ssh`).
public struct BuildSecrets: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        /// A host file (absolute path).
        case file(String)
        /// The named variable of devenv's own environment.
        case environment(String)
    }

    public var secrets: [String: Source] = [:]
    /// ssh id -> absolute path of an agent socket.
    public var agents: [String: String] = [:]

    public init(secrets: [String: Source] = [:], agents: [String: String] = [:]) {
        self.secrets = secrets
        self.agents = agents
    }

    /// What `source`/`agent` resolve ids to when both have one: the command line wins.
    public func merging(_ other: BuildSecrets) -> BuildSecrets {
        BuildSecrets(secrets: secrets.merging(other.secrets) { _, new in new }, agents: agents.merging(other.agents) { _, new in new })
    }

    /// `--secret` as BuildKit spells it: `id=ID,src=FILE` (`source=`), `id=ID,env=VAR`, with
    /// an optional `type=file|env` (`type=env,src=VAR` too); `id=ID` alone reads the variable ID.
    public mutating func addSecret(_ text: String) throws(SecretSpellingError) {
        let fields = try SecretSpellingError.fields(text, option: "--secret", allowed: ["id", "src", "source", "env", "type"])
        guard let id = fields["id"], !id.isEmpty else { throw SecretSpellingError(option: "--secret", text: text, problem: "id=ID is required") }
        let file = fields["src"] ?? fields["source"]
        switch (fields["type"], file, fields["env"]) {
        case (nil, let file?, nil), ("file", let file?, nil): secrets[id] = .file(file)
        case (nil, nil, let name?), ("env", nil, let name?): secrets[id] = .environment(name)
        case ("env", let name?, nil): secrets[id] = .environment(name)
        case (nil, nil, nil): secrets[id] = .environment(id)
        case (let type?, _, _) where type != "file" && type != "env":
            throw SecretSpellingError(option: "--secret", text: text, problem: "type=\(Printable.escape(type, limit: 32)): expected file or env")
        default:
            throw SecretSpellingError(option: "--secret", text: text, problem: "give one of src=FILE or env=VAR")
        }
    }

    /// `--ssh` as BuildKit spells it: `ID` (the agent of $SSH_AUTH_SOCK, `agentSocket`) or
    /// `ID=SOCKET`.
    public mutating func addAgent(_ text: String, agentSocket: String?) throws(SecretSpellingError) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let id = parts[0]
        guard !id.isEmpty, !id.contains(",") else { throw SecretSpellingError(option: "--ssh", text: text, problem: "expected ID or ID=SOCKET (default for the agent of $SSH_AUTH_SOCK)") }
        guard let socket = parts.count == 2 ? parts[1] : agentSocket, !socket.isEmpty, !socket.contains(",") else {
            throw SecretSpellingError(option: "--ssh", text: text, problem: parts.count == 2 ? "expected one socket path" : "SSH_AUTH_SOCK is not set: start an agent or give ID=SOCKET")
        }
        agents[id] = socket
    }
}

/// A `--secret` or `--ssh` value devenv cannot read.
public struct SecretSpellingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var option: String
    public var text: String
    public var problem: String

    public var description: String { "\(option) \(Printable.escape(text, limit: 200)): \(problem)" }

    /// `key=value,…` fields; repeated and unknown keys are errors.
    static func fields(_ text: String, option: String, allowed: Set<String>) throws(SecretSpellingError) -> [String: String] {
        var fields: [String: String] = [:]
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, allowed.contains(parts[0]) else {
                throw SecretSpellingError(option: option, text: text, problem: "expected \(allowed.sorted().map { $0 + "=" }.joined(separator: ", ")) fields, found '\(Printable.escape(String(field), limit: 64))'")
            }
            guard fields.updateValue(parts[1], forKey: parts[0]) == nil else {
                throw SecretSpellingError(option: option, text: text, problem: "\(parts[0]) is given twice")
            }
        }
        return fields
    }
}
