import Foundation
import DevenvManifest
import DevenvOCI
import DevenvPlan
import DevenvText

/// Plans one stage: tracks what Docker tracks while it walks the instructions (ENV, ARG
/// values in scope, WORKDIR, USER, SHELL, whether CMD was set) and lowers each instruction
/// that has an effect on the image to a step.
struct StagePlanner {
    let dockerfile: Dockerfile
    let stage: Stage
    let globals: GlobalArguments
    let options: DockerfilePlanner.Options
    let earlier: [Result<PlannedStage, Error>]
    let imageConfig: (Word) throws -> ImageConfig.RunConfig

    private(set) var consumedArguments = Set<String>()
    private var diagnostics: [Diagnostic] = []
    private var config = ImageConfigSummary()
    /// ARGs declared in this stage, in order, with their values (nil: declared, unset).
    private var arguments: [(name: String, value: String?)] = []
    private var cmdSet = false
    private var steps: [DockerfileStep] = []
    /// The base's ONBUILD triggers, and what to call the base in their errors.
    private var baseTriggers: [String] = []
    private var triggerOwner = "the base image"

    init(dockerfile: Dockerfile, stage: Stage, globals: GlobalArguments, options: DockerfilePlanner.Options,
         earlier: [Result<PlannedStage, Error>], imageConfig: @escaping (Word) throws -> ImageConfig.RunConfig) {
        self.dockerfile = dockerfile
        self.stage = stage
        self.globals = globals
        self.options = options
        self.earlier = earlier
        self.imageConfig = imageConfig
    }

    mutating func plan() throws -> PlannedStage {
        let base = try resolveBase()
        try runTriggers()
        for instruction in stage.instructions {
            do {
                try handle(instruction)
            } catch let diagnostic as Diagnostic {
                diagnostics.append(diagnostic)
            }
        }
        guard diagnostics.isEmpty else { throw dockerfile.error(diagnostics) }
        return PlannedStage(index: stage.index, name: stage.name, base: base, location: stage.location, steps: steps, config: config)
    }

    // MARK: FROM

    private mutating func resolveBase() throws -> PlannedStage.Base {
        let from = stage.from
        let reference: String
        let globals = self.globals
        do {
            if let platform = from.platform {
                let value = try ShellExpander(escape: escape) { globals.value($0) }.word(platform.value)
                let host = DockerfilePlanner.platformArguments(options.platform)["TARGETPLATFORM"] ?? ""
                if value != host && value != "\(options.platform.os)/\(options.platform.architecture)" {
                    throw dockerfile.error([Diagnostic("FROM --platform=\(Printable.escape(value)): devenv builds only for this machine's platform (\(host))",
                                                       at: platform.location, width: platform.width)])
                }
            }
            reference = try ShellExpander(escape: escape) { globals.value($0) }.word(from.image.value)
        } catch let failure as ShellExpander.Failure {
            throw dockerfile.error([Diagnostic("FROM: \(failure.description)", at: from.image.location, width: from.image.width)])
        }
        let word = Word(reference, at: from.image.location, width: from.image.width)
        if reference.isEmpty {
            throw dockerfile.error([Diagnostic("FROM: the image name is empty after expanding '\(Printable.escape(from.image.value))'", at: word.location, width: word.width)])
        }
        if reference.lowercased() == "scratch" { return .scratch }
        if let index = dockerfile.stages.prefix(stage.index).last(where: { $0.name == reference.lowercased() })?.index {
            // A base stage that failed to plan fails this one with its own error.
            config = try earlier[index].get().config
            baseTriggers = config.onBuild
            triggerOwner = "the base stage '\(Printable.escape(reference.lowercased()))'"
            config.onBuild = []
            return .stage(index)
        }
        let run = try imageConfig(word)
        config = ImageConfigSummary(env: run.env ?? [], workingDir: run.workingDir, user: run.user)
        baseTriggers = run.onBuild ?? []
        return .image(word)
    }

    /// The base's ONBUILD triggers (an image's, or an earlier stage's own) run first, as
    /// instructions of this stage written at its FROM, and are not passed on (BuildKit's order
    /// and rule). A trigger is one instruction, and never ONBUILD, FROM or MAINTAINER, which an
    /// image config written by hand could still hold.
    private mutating func runTriggers() throws {
        guard !baseTriggers.isEmpty else { return }
        add(.config([.onBuild(nil)]), stage.location)
        for trigger in baseTriggers {
            let image = stage.from.image
            let owner = triggerOwner
            let fail = { (message: String) in
                Diagnostic("ONBUILD trigger '\(Printable.escape(trigger, limit: 120))' of \(owner): \(message)",
                           at: image.location, width: image.width)
            }
            let parsed: Dockerfile
            do {
                parsed = try Dockerfile.parse(Array(("FROM scratch\n" + trigger).utf8), path: "ONBUILD")
            } catch let error as DiagnosticError {
                throw dockerfile.error([fail(error.diagnostics.map(\.message).joined(separator: "; "))])
            }
            let instructions = parsed.stages.first?.instructions ?? []
            // A FROM in the trigger makes a second stage: exactly one stage, one instruction.
            guard parsed.stages.count == 1, instructions.count == 1 else {
                let keyword = parsed.stages.count > 1 ? "FROM" : nil
                throw dockerfile.error([fail(keyword.map { "\($0) isn't allowed as an ONBUILD trigger" } ?? "a trigger must be exactly one instruction")])
            }
            // The parsed instruction decides, not the text: a comment or a line continuation
            // before the keyword must not smuggle a chained trigger in.
            let keyword = instructions[0].keyword.uppercased()
            if keyword == "ONBUILD" { throw dockerfile.error([fail("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]) }
            if keyword == "FROM" || keyword == "MAINTAINER" { throw dockerfile.error([fail("\(keyword) isn't allowed as an ONBUILD trigger")]) }
            for var instruction in instructions {
                instruction.location = stage.location
                do {
                    try handle(instruction)
                } catch let diagnostic as Diagnostic {
                    diagnostics.append(fail(diagnostic.message))
                }
            }
        }
    }

    // MARK: Instructions

    private mutating func handle(_ instruction: Instruction) throws {
        let location = instruction.location
        switch instruction.command {
        case .from:
            break
        case let .arg(declarations):
            for declaration in declarations { try declare(declaration) }
        case let .env(pairs):
            let variables = try pairs.map { pair -> EnvironmentVariable in
                let name = try expand(pair.key)
                try checkName(name, pair.key, what: "ENV")
                return EnvironmentVariable(name: name, value: try expand(pair.value))
            }
            config.env = ConfigEditor.replacing(variables, in: config.env)
            add(.config([.env(variables)]), location)
        case let .label(pairs):
            let labels = try pairs.map { EnvironmentVariable(name: try expand($0.key), value: try expand($0.value)) }
            add(.config([.labels(labels)]), location)
        case let .run(run):
            try planRun(run, location: location)
        case let .cmd(form):
            cmdSet = true
            add(.config([.cmd(try commandLine(form, location: location))]), location)
        case let .entrypoint(form):
            var changes: [ConfigChange] = [.entrypoint(try commandLine(form, location: location))]
            // Docker: an ENTRYPOINT drops the base image's CMD unless this stage set one.
            if !cmdSet { changes.append(.cmd(nil)) }
            add(.config(changes), location)
        case let .shell(shell):
            config.shell = shell
        case let .workdir(word):
            let path = try expand(word)
            guard !path.isEmpty else { throw Diagnostic("WORKDIR: the path is empty", at: word.location, width: word.width) }
            let absolute = ConfigEditor.resolve(path, from: config.workingDir)
            config.workingDir = absolute
            add(.workdir(WorkdirStep(path: absolute, createsDirectory: true)), location)
        case let .user(word):
            let user = try expand(word)
            guard !user.isEmpty, !user.contains(where: { $0 == " " || $0 == "\t" }) else {
                throw Diagnostic("USER: expected NAME, UID, NAME:GROUP or UID:GID, found '\(Printable.escape(user))'", at: word.location, width: word.width)
            }
            config.user = user
            add(.config([.user(user)]), location)
        case let .copy(copy):
            try planCopy(copy, location: location)
        case let .expose(words):
            var ports: [String] = []
            for word in words {
                for text in try expandWords(word) { ports += try Ports.parse(text, word) }
            }
            add(.config([.exposedPorts(ports)]), location)
        case let .volume(words, json):
            let paths = try words.map { try json ? expandLiteral($0) : expand($0) }.filter { !$0.isEmpty }
            add(.config([.volumes(paths)]), location)
        case let .stopSignal(word):
            add(.config([.stopSignal(try expand(word))]), location)
        case let .maintainer(word):
            add(.config([.labels([EnvironmentVariable(name: "maintainer", value: try expand(word))])]), location)
        case let .healthcheck(healthcheck):
            add(.config([.healthcheck(healthcheck)]), location)
        case let .onBuild(trigger):
            config.onBuild.append(trigger)
            add(.config([.onBuild([trigger])]), location)
        }
    }

    private mutating func add(_ step: Step, _ location: SourceLocation, copy: CopySource? = nil) {
        steps.append(DockerfileStep(step: step, definition: DockerfileWords.definition(of: step), location: location, copy: copy))
    }

    // MARK: ARG

    private mutating func declare(_ declaration: ArgDeclaration) throws {
        let name = declaration.name.value
        try checkName(name, declaration.name, what: "ARG")
        consumedArguments.insert(name)
        let value: String?
        if let given = options.arguments[name] {
            value = given
        } else if let text = declaration.defaultValue {
            value = try expand(text)
        } else {
            value = globals.value(name)
        }
        arguments.removeAll { $0.name == name }
        arguments.append((name, value))
    }

    private func checkName(_ name: String, _ word: Word, what: String) throws {
        guard !name.isEmpty, !name.contains("="), !name.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            throw Diagnostic("\(what): invalid variable name '\(Printable.escape(name))'", at: word.location, width: word.width)
        }
    }

    // MARK: Expansion

    private var escape: Unicode.Scalar { dockerfile.escape.unicodeScalars.first ?? "\\" }

    /// What `$NAME` means at this point: the environment first (ENV wins over ARG), then
    /// the stage's ARGs.
    private var lookup: (String) -> String? {
        let env = config.env
        let arguments = self.arguments
        return { name in
            if let entry = env.last(where: { $0.hasPrefix(name + "=") }) { return String(entry.dropFirst(name.count + 1)) }
            if let argument = arguments.last(where: { $0.name == name }) { return argument.value }
            return nil
        }
    }

    private func expand(_ word: Word) throws -> String {
        do {
            return try ShellExpander(escape: escape, lookup: lookup).word(word.value)
        } catch let failure as ShellExpander.Failure {
            throw Diagnostic(failure.description, at: word.location, width: word.width)
        }
    }

    private func expandWords(_ word: Word) throws -> [String] {
        do {
            return try ShellExpander(escape: escape, lookup: lookup).words(word.value)
        } catch let failure as ShellExpander.Failure {
            throw Diagnostic(failure.description, at: word.location, width: word.width)
        }
    }

    /// JSON-form words and heredocs: variables expanded, quotes left as they are.
    private func expandLiteral(_ word: Word) throws -> String {
        do {
            return try ShellExpander(escape: escape, lookup: lookup).heredoc(word.value)
        } catch let failure as ShellExpander.Failure {
            throw Diagnostic(failure.description, at: word.location, width: word.width)
        }
    }

    private func commandLine(_ form: CommandForm, location: SourceLocation) throws -> [String] {
        switch form {
        case let .exec(arguments): return arguments
        case let .shell(text): return config.shell + [text.value]
        }
    }

    // MARK: RUN

    private mutating func planRun(_ run: Command.Run, location: SourceLocation) throws {
        var command: [String]
        switch run.form {
        case let .exec(arguments):
            guard run.heredocs.isEmpty else {
                throw Diagnostic("RUN: heredocs work only with the shell form", at: location, width: 3)
            }
            guard !arguments.isEmpty else { throw Diagnostic("RUN: the command is empty", at: location, width: 3) }
            command = arguments
        case let .shell(text):
            command = config.shell + [try heredocScript(text, run.heredocs)]
        }
        var mounts: [CacheMount] = []
        var secrets: [SecretMount] = []
        for mount in run.mounts {
            switch try runMount(mount, agentIndex: secrets.count { $0.kind == .ssh }) {
            case let .cache(cache): mounts.append(cache)
            case let .secret(secret): secrets.append(secret)
            }
        }
        var network = BuildNetwork.host
        if let word = run.network {
            switch try expand(word) {
            case "default", "host": network = .host
            case "none": network = .none
            case let other:
                throw Diagnostic("RUN --network=\(Printable.escape(other)): expected default, host or none", at: word.location, width: word.width)
            }
        }
        if let word = run.security, try expand(word) != "sandbox" {
            throw Diagnostic("RUN --security=insecure is not supported: build steps always run confined", at: word.location, width: word.width)
        }
        let values = arguments.compactMap { argument in argument.value.map { EnvironmentVariable(name: argument.name, value: $0) } }
        add(.run(RunStep(command: command, arguments: values, cacheMounts: mounts, network: network, secrets: secrets)), location)
    }

    /// BuildKit's heredoc RUN: a lone `<<EOF` runs the document as the script; otherwise the
    /// line and the documents go to the shell, which reads them itself.
    private func heredocScript(_ text: Word, _ heredocs: [Heredoc]) throws -> String {
        guard let first = heredocs.first else { return text.value }
        let line = text.value.trimmingBlanks
        if heredocs.count == 1 && line == first.marker {
            if first.content.hasPrefix("#!") {
                throw Diagnostic("RUN: a heredoc with a #! line is not supported; run the interpreter on it instead (RUN python3 <<EOF)",
                              at: first.location, width: first.marker.count)
            }
            return first.content
        }
        return heredocs.reduce(text.value) { $0 + "\n" + $1.content + $1.name }
    }

    private enum RunMount {
        case cache(CacheMount)
        case secret(SecretMount)
    }

    private func runMount(_ word: Word, agentIndex: Int) throws -> RunMount {
        let text = try expand(word)
        func fail(_ message: String) -> Diagnostic { Diagnostic("RUN --mount: \(message)", at: word.location, width: word.width) }
        var fields: [String: String] = [:]
        for field in text.split(separator: ",") {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            fields[parts[0].lowercased()] = parts.count == 2 ? parts[1] : "true"
        }
        let type = fields.removeValue(forKey: "type") ?? "bind"
        switch type {
        case "cache": return .cache(try cacheMount(&fields, fail: fail))
        case "secret", "ssh": return .secret(try secretMount(type == "ssh" ? .ssh : .secret, &fields, agentIndex: agentIndex, fail: fail))
        default:
            throw fail("type=\(Printable.escape(type)) is not supported (only cache, secret and ssh); a build step sees only the image, so COPY what it needs first")
        }
    }

    /// BuildKit's secret and ssh mounts: the id defaults to the target's last component (a
    /// secret) or `default` (ssh), the target to /run/secrets/ID or the agent's socket; a
    /// secret with `env=` and no target is only that variable. The secret's content is the
    /// build's, never the step's (SecretMount).
    private func secretMount(_ kind: SecretMount.Kind, _ fields: inout [String: String], agentIndex: Int, fail: (String) -> Diagnostic) throws -> SecretMount {
        let written = fields.removeValue(forKey: "target") ?? fields.removeValue(forKey: "dst") ?? fields.removeValue(forKey: "destination")
        let target = written.map { ConfigEditor.resolve($0, from: config.workingDir) }
        let environment = kind == .secret ? fields.removeValue(forKey: "env") : nil
        let id = fields.removeValue(forKey: "id") ?? (kind == .ssh ? "default" : target.map { String($0.split(separator: "/").last ?? "") })
        guard let id, !id.isEmpty, !id.contains("/"), id != ".", id != ".." else { throw fail("a secret mount needs id=ID (or a target=PATH to name it)") }
        if target == "/" { throw fail("a secret or ssh mount cannot be the root directory") }
        var required = false
        if let value = fields.removeValue(forKey: "required") {
            guard let flag = Bool(value.lowercased()) else { throw fail("required=\(Printable.escape(value)): expected true or false") }
            required = flag
        }
        if kind == .ssh, let key = MountOwnerFields.keys.first(where: { fields[$0] != nil }) {
            throw fail("'\(key)' is not supported for an ssh mount: devenv binds the host agent's own socket, which it does not hand to another owner (docs/daily-use.md)")
        }
        let owner = try ownerFields(&fields, maxMode: 0o777, fail: fail)
        if let key = fields.keys.sorted().first {
            throw fail("'\(Printable.escape(key))' is not supported for \(kind == .ssh ? "an ssh" : "a secret") mount (devenv supports id, target, required\(kind == .secret ? ", env, uid, gid and mode" : ""))")
        }
        let place = target ?? (environment != nil ? nil : kind == .ssh ? SecretMount.defaultAgentTarget(index: agentIndex) : SecretMount.defaultTarget(id: id))
        return SecretMount(kind: kind, id: id, target: place, environmentName: environment, required: required, uid: owner.uid, gid: owner.gid, mode: owner.mode)
    }

    private func ownerFields(_ fields: inout [String: String], maxMode: UInt32, fail: (String) -> Diagnostic) throws -> MountOwnerFields {
        switch MountOwnerFields.take(from: &fields, maxMode: maxMode) {
        case let .success(owner): return owner
        case let .failure(problem): throw fail("\(problem.key)=\(Printable.escape(problem.value)) is not \(problem.expected)")
        }
    }

    private func cacheMount(_ fields: inout [String: String], fail: (String) -> Diagnostic) throws -> CacheMount {
        guard let target = fields.removeValue(forKey: "target") ?? fields.removeValue(forKey: "dst") ?? fields.removeValue(forKey: "destination"),
              !target.isEmpty else {
            throw fail("a cache mount needs target=PATH")
        }
        let path = ConfigEditor.resolve(target, from: config.workingDir)
        guard path != "/" else { throw fail("a cache mount cannot be the root directory") }
        let id = fields.removeValue(forKey: "id")
        if let sharing = fields.removeValue(forKey: "sharing"), !["shared", "private", "locked"].contains(sharing) {
            throw fail("sharing=\(Printable.escape(sharing)): expected shared, private or locked")
        }
        let owner = try ownerFields(&fields, maxMode: 0o7777, fail: fail)
        if let key = fields.keys.sorted().first {
            throw fail("'\(Printable.escape(key))' is not supported for a cache mount (devenv supports target, id, sharing, uid, gid and mode)")
        }
        return CacheMount(target: path, id: id, uid: owner.uid, gid: owner.gid, mode: owner.mode)
    }

    // MARK: COPY and ADD

    private mutating func planCopy(_ copy: Command.Copy, location: SourceLocation) throws {
        let keyword = copy.isAdd ? "ADD" : "COPY"
        if let flag = copy.unsupportedFlags.first {
            throw Diagnostic("\(keyword) \(flag.value) is not supported", at: flag.location, width: flag.width)
        }
        var origin = CopySource.Origin.context
        var fromText: String?
        if let word = copy.from {
            let from = try expand(word)
            fromText = from
            origin = try copyOrigin(from, word)
        }
        let owner = try copy.chown.map { word -> String in
            let text = try expand(word)
            guard !text.isEmpty, text.split(separator: ":", omittingEmptySubsequences: false).count <= 2 else {
                throw Diagnostic("--chown=\(Printable.escape(text)): expected USER, USER:GROUP, UID or UID:GID", at: word.location, width: word.width)
            }
            return text
        }
        let mode = try copy.chmod.map { word -> UInt32 in
            let text = try expand(word)
            guard let mode = UInt32(text, radix: 8), mode <= 0o7777 else {
                throw Diagnostic("--chmod=\(Printable.escape(text)): expected an octal mode such as 755 (symbolic modes are not supported)",
                              at: word.location, width: word.width)
            }
            return mode
        }
        let checksum = try copy.checksum.map { word -> (Digest, Word) in
            let text = try expand(word)
            guard let digest = try? Digest(parsing: text) else {
                throw Diagnostic("--checksum=\(Printable.escape(text)): expected a digest such as sha256:<64 hex digits>", at: word.location, width: word.width)
            }
            return (digest, word)
        }
        var patterns: [Word] = []
        var inline: [InlineFile] = []
        var remote: [RemoteFile] = []
        var git: [GitSource] = []
        var written: [String] = []
        for source in copy.sources {
            if let heredoc = copy.heredocs.first(where: { $0.marker == source.value }) {
                let content = heredoc.expand ? try expandLiteral(Word(heredoc.content, at: heredoc.location)) : heredoc.content
                inline.append(InlineFile(name: heredoc.name, content: content, location: heredoc.location))
                written.append("<<" + heredoc.name)
                continue
            }
            let text = try copy.json ? expandLiteral(source) : expand(source)
            if copy.isAdd, let repository = try gitSource(text, keep: copy.keepGitDir, source) {
                git.append(repository)
                written.append(text)
                continue
            }
            if copy.isAdd, let file = try remoteFile(text, checksum: checksum, source) {
                remote.append(file)
                written.append(text)
                continue
            }
            if copy.isAdd, text.contains("://") {
                throw Diagnostic("ADD \(Printable.escape(text)): only http, https and git sources are supported",
                              at: source.location, width: source.width)
            }
            let pattern = try sourcePath(text, origin: origin, source)
            patterns.append(Word(pattern, at: source.location, width: source.width))
            written.append(text)
        }
        var destination = try expand(copy.destination)
        guard !destination.isEmpty else {
            throw Diagnostic("\(keyword): the destination is empty", at: copy.destination.location, width: copy.destination.width)
        }
        let directory = destination.hasSuffix("/") || destination == "." || destination.hasSuffix("/.")
        destination = ConfigEditor.resolve(destination, from: config.workingDir)
        if directory && destination != "/" { destination += "/" }
        if let word = copy.keepGitDir, git.isEmpty {
            throw Diagnostic("--keep-git-dir can only be used with git sources", at: word.location, width: word.width)
        }
        if !git.isEmpty && !destination.hasSuffix("/") && !(patterns.isEmpty && inline.isEmpty && remote.isEmpty && git.count == 1) {
            throw Diagnostic("\(keyword) with several sources needs a destination directory ending in '/'",
                          at: copy.destination.location, width: copy.destination.width)
        }
        if let (_, word) = checksum, remote.isEmpty || remote.count != written.count {
            throw Diagnostic("--checksum can only be used with http and https sources (one checksum for each ADD)", at: word.location, width: word.width)
        }
        if let (_, word) = checksum, remote.count > 1 {
            throw Diagnostic("--checksum needs exactly one source", at: word.location, width: word.width)
        }
        if patterns.count + inline.count + remote.count > 1 && !destination.hasSuffix("/") {
            throw Diagnostic("\(keyword) with several sources needs a destination directory ending in '/'",
                          at: copy.destination.location, width: copy.destination.width)
        }
        let step = CopyStep(sources: written, destination: destination, from: fromText, owner: owner, mode: mode, unpacksArchives: copy.isAdd)
        add(.copy(step), location, copy: CopySource(origin: origin, patterns: patterns, inline: inline, remote: remote, git: git))
    }

    /// What BuildKit's ADD takes for a git repository: `git@host:path`, `git://` and
    /// `ssh://` URLs, and http(s) URLs whose path ends in `.git`.
    static func isGitURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        if lower.hasPrefix("git@") || lower.hasPrefix("git://") || lower.hasPrefix("ssh://") { return true }
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return false }
        let path = lower.split(separator: "#", maxSplits: 1).first?.split(separator: "?", maxSplits: 1).first ?? ""
        return path.hasSuffix(".git")
    }

    /// `URL[#REF[:SUBDIR]]`, or BuildKit's query form `URL?ref=REF&subdir=DIR&keep-git-dir=true`
    /// (`tag=` and `branch=` name the ref too), as a git source; nil when `text` is not a git URL.
    private func gitSource(_ text: String, keep: Word?, _ word: Word) throws -> GitSource? {
        guard Self.isGitURL(text) else { return nil }
        func failure(_ reason: String) -> Diagnostic {
            Diagnostic("ADD \(Printable.escape(text)): \(reason)", at: word.location, width: word.width)
        }
        let parts = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        var url = String(parts[0])
        var ref: String?
        var subdirectory: String?
        var keepFromQuery: Bool?
        if parts.count == 2 {
            let fragment = parts[1].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            ref = fragment[0].isEmpty ? nil : fragment[0]
            if fragment.count == 2, !fragment[1].isEmpty { subdirectory = fragment[1] }
        }
        let scheme = url.lowercased()
        if (scheme.hasPrefix("http://") || scheme.hasPrefix("https://")), let question = url.firstIndex(of: "?") {
            let query = String(url[url.index(after: question)...])
            url = String(url[..<question])
            guard parts.count == 1 else { throw failure("give the ref either after '#' or as '?ref=', not both") }
            for item in query.split(separator: "&", omittingEmptySubsequences: true) {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).removingPercentEncoding ?? String($0) }
                let value = pair.count == 2 ? pair[1] : ""
                switch pair[0] {
                case "ref", "tag", "branch":
                    guard ref == nil else { throw failure("the ref is given twice") }
                    ref = value.isEmpty ? nil : value
                case "subdir":
                    subdirectory = value
                case "keep-git-dir":
                    guard let flag = ["true": true, "false": false][value] else { throw failure("keep-git-dir must be true or false") }
                    keepFromQuery = flag
                default:
                    throw failure("unknown query parameter '\(Printable.escape(pair[0]))' (ref, tag, branch, subdir and keep-git-dir are read)")
                }
            }
        }
        if let given = subdirectory {
            let clean = ConfigEditor.resolve(given, from: "/")
            subdirectory = clean == "/" ? nil : String(clean.dropFirst())
        }
        if let ref, ref.hasPrefix("-") || ref.contains("..") {
            throw failure("'\(Printable.escape(ref))' is not a branch, tag or commit")
        }
        let keepValue = try keep.map { try expand($0) }
        return GitSource(url: url, ref: ref, subdirectory: subdirectory,
                         keepGitDirectory: keepValue.map { $0 != "false" } ?? keepFromQuery ?? false, location: word.location)
    }

    /// An http or https source of ADD (BuildKit's isHTTPSource); nil for anything else.
    private func remoteFile(_ text: String, checksum: (Digest, Word)?, _ word: Word) throws -> RemoteFile? {
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return nil }
        guard let components = URLComponents(string: text), components.host?.isEmpty == false else {
            throw Diagnostic("ADD \(Printable.escape(text)): not a valid URL", at: word.location, width: word.width)
        }
        let last = components.path.split(separator: "/").last.map(String.init)
        let name = last.flatMap { $0 == "." || $0 == ".." ? nil : $0 } ?? "__unnamed__"
        return RemoteFile(url: text, name: name, checksum: checksum?.0, location: word.location)
    }

    /// `--from`: an earlier stage by name or number, else an image.
    private func copyOrigin(_ from: String, _ word: Word) throws -> CopySource.Origin {
        if let named = dockerfile.stage(named: from) {
            guard named.index < stage.index else {
                throw Diagnostic("--from=\(Printable.escape(from)): a stage can copy only from stages before it", at: word.location, width: word.width)
            }
            return .stage(named.index)
        }
        if Int(from) != nil {
            throw Diagnostic("--from=\(Printable.escape(from)): there is no stage \(from)", at: word.location, width: word.width)
        }
        return .image(Word(from, at: word.location, width: word.width))
    }

    /// Context sources are relative to the context and cannot leave it; stage and image
    /// sources are absolute paths in that filesystem.
    private func sourcePath(_ text: String, origin: CopySource.Origin, _ word: Word) throws -> String {
        var parts: [Substring] = []
        for part in text.split(separator: "/") where part != "." {
            if part == ".." {
                guard parts.popLast() != nil else {
                    throw Diagnostic("'\(Printable.escape(text))' is outside the build context", at: word.location, width: word.width)
                }
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if case .context = origin { return joined.isEmpty ? "." : joined }
        return "/" + joined
    }
}

/// EXPOSE values: `80`, `80/tcp`, `53/udp`, `8000-8002` (one entry per port, as Docker records them).
enum Ports {
    static let maxPorts = 4096

    static func parse(_ text: String, _ word: Word) throws -> [String] {
        let pieces = text.split(separator: "/", maxSplits: 1).map(String.init)
        let proto = pieces.count == 2 ? pieces[1].lowercased() : "tcp"
        func fail() -> Diagnostic {
            Diagnostic("EXPOSE \(Printable.escape(text)): expected PORT, PORT/PROTOCOL or FIRST-LAST (tcp, udp or sctp)",
                                 at: word.location, width: word.width)
        }
        guard let range = pieces.first, ["tcp", "udp", "sctp"].contains(proto) else { throw fail() }
        let bounds = range.split(separator: "-", maxSplits: 1).map { UInt16($0) }
        guard !bounds.isEmpty, let low = bounds[0], let high = bounds.count == 2 ? bounds[1] : low, low <= high,
              Int(high) - Int(low) < maxPorts else { throw fail() }
        return (low...high).map { "\($0)/\(proto)" }
    }
}

extension String {
    var trimmingBlanks: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, SourceText.isBlank(first) || first == "\n" { scalars.removeFirst() }
        while let last = scalars.last, SourceText.isBlank(last) || last == "\n" { scalars.removeLast() }
        return String(scalars)
    }
}
