import CCurl
import Dispatch
import DevenvOCI
import DevenvSystem
import Foundation

/// Synchronous HTTP through libcurl's easy interface: each `send` runs the transfer on its
/// calling thread, and every body byte passes through `Transfer.received` before libcurl
/// reads more from the socket. That is what bounds memory against a hostile server: a
/// buffered body stops at its limit, a streamed one goes to its sink (the ingest file) at
/// the speed the sink takes it, and returning 0 there ends the transfer at once.
/// (URLSession on Linux queues every chunk for its delegate without back pressure: an
/// endless body filled gigabytes before a cancel took effect.)
///
/// Redirects are never followed here: the caller decides where credentials may go.
/// Timeouts (response, idle, low speed, total) and cancellation are checked in libcurl's
/// progress callback, which runs during transfers and about once a second when idle.
final class HTTPClient: @unchecked Sendable {
    let timeouts: RegistryConfiguration.Timeouts
    let errorBodyLimit: Int
    let userAgent: String
    let trust: CertificateTrust

    /// Idle easy handles; each keeps its connections open for the next request.
    private let lock = NSLock()
    private var idle: [UnsafeMutableRawPointer] = []
    private static let maxIdle = 8
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    init(timeouts: RegistryConfiguration.Timeouts, errorBodyLimit: Int, userAgent: String, trust: CertificateTrust = CertificateTrust()) {
        self.timeouts = timeouts
        self.errorBodyLimit = errorBodyLimit
        self.userAgent = userAgent
        self.trust = trust
        _ = Self.initialized
    }

    deinit {
        for handle in idle { curl_easy_cleanup(handle) }
    }

    /// Performs `request`. Transport failures and timeouts throw a retryable
    /// `RegistryError`; any HTTP status is returned, not thrown.
    func send(_ request: HTTPRequest, handling: BodyHandling, deadline: TimeInterval? = nil,
              cancellation: CancellationFlag? = nil) throws -> HTTPResponse {
        // Whatever a request carries, it is never printed; its secrets are redacted from
        // anything the registry echoes back.
        if let authorization = request.headers.first(where: { $0.key.lowercased() == "authorization" })?.value {
            RegistrySecrets.remember(authorization: authorization)
        }
        let operation = "\(request.method) \(HTTPMessage.display(request.url))"
        DebugLog.log("registry", "\(operation)\(Self.loggedHeaders(request))")
        let started = DebugLog.isEnabled ? ContinuousClock.now : nil
        let transfer = Transfer(handling: handling, errorBodyLimit: errorBodyLimit, operation: operation, isHead: request.method == "HEAD",
                                timeouts: timeouts, deadline: deadline, cancellation: cancellation, trust: trust)
        guard let handle = takeHandle() else {
            throw RegistryError(.transport, operation, "libcurl could not create a transfer", retryable: true)
        }
        var headers: UnsafeMutablePointer<curl_slist>?
        defer {
            curl_slist_free_all(headers)
            giveBack(handle)
        }
        for line in headerLines(request) { headers = curl_slist_append(headers, line) }
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        let body = request.body ?? Data()
        let code: CURLcode = withExtendedLifetime(transfer) {
            body.withUnsafeBytes { raw in
                configure(handle, request: request, headers: headers, body: raw, context: context)
                return curl_easy_perform(handle)
            }
        }
        let response = try transfer.result(code: code, status: Int(devenv_curl_response_code(handle)), url: request.url)
        if let started { DebugLog.log("registry", "\(operation): \(response.status) in \(DebugLog.milliseconds(since: started)) ms") }
        return response
    }

    /// The request's headers for the debug log: credentials never, whatever their name.
    static func loggedHeaders(_ request: HTTPRequest) -> String {
        let lines = request.headers.sorted { $0.key < $1.key }.map { name, value in
            name.lowercased() == "authorization" ? "\(name): \(Redaction.marker)" : "\(name): \(RegistrySecrets.redact(value))"
        }
        return lines.isEmpty ? "" : " (" + lines.joined(separator: ", ") + ")"
    }

    private func headerLines(_ request: HTTPRequest) -> [String] {
        var lines = ["User-Agent: \(userAgent)", "Expect:"]
        var hasContentType = false
        for (name, value) in request.headers {
            let lower = name.lowercased()
            // libcurl computes the length from the body it is given.
            if lower == "content-length" || lower == "user-agent" { continue }
            if lower == "content-type" { hasContentType = true }
            lines.append("\(name): \(value)")
        }
        // Without this, libcurl labels every body as a form.
        if !hasContentType && request.body != nil { lines.append("Content-Type:") }
        return lines
    }

    private func configure(_ handle: UnsafeMutableRawPointer, request: HTTPRequest, headers: UnsafeMutablePointer<curl_slist>?,
                           body: UnsafeRawBufferPointer, context: UnsafeMutableRawPointer) {
        _ = devenv_curl_set_pointer(handle, CURLOPT_URL, request.url.absoluteString)
        _ = devenv_curl_set_pointer(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = devenv_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = devenv_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        _ = devenv_curl_set_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        _ = devenv_curl_set_long(handle, CURLOPT_BUFFERSIZE, 256 << 10)
        _ = devenv_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(timeouts.response * 1000)))
        // A configured bundle or directory replaces libcurl's built-in ones (both: a curl
        // built with a CA path would otherwise still trust it), as the variables promise.
        if trust.bundle != nil || trust.directory != nil {
            _ = devenv_curl_set_pointer(handle, CURLOPT_CAINFO, trust.bundle?.path)
            _ = devenv_curl_set_pointer(handle, CURLOPT_CAPATH, trust.directory?.path)
        }
        switch request.method {
        case "GET":
            _ = devenv_curl_set_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD":
            _ = devenv_curl_set_long(handle, CURLOPT_NOBODY, 1)
        default:
            _ = devenv_curl_set_pointer(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        if request.body != nil || !["GET", "HEAD"].contains(request.method) {
            _ = devenv_curl_set_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            // A zero-length body still needs a valid pointer.
            _ = devenv_curl_set_pointer(handle, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafeRawPointer(context))
        }
        _ = devenv_curl_set_pointer(handle, CURLOPT_HTTPHEADER, headers)
        _ = devenv_curl_set_data_callback(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            return Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue().receivedHeader(bytes) ? size * count : 0
        })
        _ = devenv_curl_set_pointer(handle, CURLOPT_HEADERDATA, context)
        _ = devenv_curl_set_data_callback(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            return Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue().received(bytes) ? size * count : 0
        })
        _ = devenv_curl_set_pointer(handle, CURLOPT_WRITEDATA, context)
        _ = devenv_curl_set_long(handle, CURLOPT_NOPROGRESS, 0)
        _ = devenv_curl_set_progress_callback(handle, { context, _, _, _, _ in
            Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue().check() ? 0 : 1
        })
        _ = devenv_curl_set_pointer(handle, CURLOPT_XFERINFODATA, context)
    }

    private func takeHandle() -> UnsafeMutableRawPointer? {
        lock.lock()
        let reused = idle.popLast()
        lock.unlock()
        if let reused {
            curl_easy_reset(reused)
            return reused
        }
        return curl_easy_init()
    }

    private func giveBack(_ handle: UnsafeMutableRawPointer) {
        lock.lock()
        defer { lock.unlock() }
        if idle.count < Self.maxIdle { idle.append(handle) } else { curl_easy_cleanup(handle) }
    }
}

/// The state of one request while it runs. The callbacks run on the sending thread; only
/// `cancellation` is shared with other threads.
private final class Transfer {
    let handling: BodyHandling
    let errorBodyLimit: Int
    let operation: String
    let isHead: Bool
    let timeouts: RegistryConfiguration.Timeouts
    let deadline: TimeInterval?
    let cancellation: CancellationFlag?
    let trust: CertificateTrust

    private var status = 0
    private var headers: [String: String] = [:]
    private var headersComplete = false
    private var body = Data()
    private var failure: RegistryError?
    private var truncated = false
    private var begun = false
    private let started = DispatchTime.now().uptimeNanoseconds
    private var lastActivity = DispatchTime.now().uptimeNanoseconds
    private var bytes: Int64 = 0
    private var windowStart: UInt64
    private var windowBytes: Int64 = 0

    init(handling: BodyHandling, errorBodyLimit: Int, operation: String, isHead: Bool,
         timeouts: RegistryConfiguration.Timeouts, deadline: TimeInterval?, cancellation: CancellationFlag?, trust: CertificateTrust) {
        self.handling = handling
        self.errorBodyLimit = errorBodyLimit
        self.operation = operation
        self.isHead = isHead
        self.timeouts = timeouts
        self.deadline = deadline
        self.cancellation = cancellation
        self.trust = trust
        windowStart = started
    }

    private var isSuccess: Bool { (200..<300).contains(status) }

    /// The most this response's body may hold in memory: a buffered success's limit, else
    /// the error-body limit (an error body is cut there, not refused: its start is the message).
    private var memoryCap: Int {
        if case let .buffer(limit) = handling, isSuccess { return limit }
        return errorBodyLimit
    }

    /// One header line; the status line starts a new response (after 1xx ones), the empty
    /// line ends the header block.
    func receivedHeader(_ raw: UnsafeRawBufferPointer) -> Bool {
        lastActivity = DispatchTime.now().uptimeNanoseconds
        let line = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
            headers = [:]
            headersComplete = false
            return true
        }
        if line.isEmpty {
            guard status >= 200 else { return true }
            headersComplete = true
            return headersEnded()
        }
        guard let colon = line.firstIndex(of: ":") else { return true }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        return true
    }

    /// A buffered success that announces more than its limit is refused before its body is
    /// read; a streamed success's sink sees the status and headers first.
    private func headersEnded() -> Bool {
        if case let .buffer(limit) = handling, isSuccess, !isHead,
           let length = headers["content-length"].flatMap({ Int64($0) }), length > Int64(limit) {
            return fail(RegistryError(.tooLarge, operation, "the response declares \(length) bytes, larger than the limit of \(limit) bytes; nothing was read"))
        }
        if case let .stream(sink) = handling, isSuccess, !isHead {
            begun = true
            do {
                try sink.begin(status, headers)
            } catch {
                return fail(error as? RegistryError ?? RegistryError(.store, operation, "\(error)"))
            }
        }
        return true
    }

    /// A body chunk. Returning false ends the transfer.
    func received(_ raw: UnsafeRawBufferPointer) -> Bool {
        guard failure == nil, !truncated else { return false }
        lastActivity = DispatchTime.now().uptimeNanoseconds
        bytes += Int64(raw.count)
        if case let .stream(sink) = handling, isSuccess {
            do {
                try sink.consume(Data(raw))
                return true
            } catch {
                return fail(error as? RegistryError ?? RegistryError(.store, operation, "\(error)"))
            }
        }
        let cap = memoryCap
        guard body.count + raw.count > cap else {
            body.append(contentsOf: raw)
            return true
        }
        if isSuccess {
            return fail(RegistryError(.tooLarge, operation, "the response body is larger than the limit of \(cap) bytes; stopped reading there"))
        }
        body.append(contentsOf: raw.prefix(cap - body.count))
        truncated = true
        return false
    }

    @discardableResult
    private func fail(_ error: RegistryError) -> Bool {
        if failure == nil { failure = error }
        return false
    }

    /// The watchdog: false stops the transfer because it waited too long for its response,
    /// went silent, crawled, ran past its deadline or was cancelled.
    func check() -> Bool {
        guard failure == nil else { return false }
        let now = DispatchTime.now().uptimeNanoseconds
        func seconds(_ since: UInt64) -> TimeInterval { TimeInterval(now &- since) / 1e9 }
        if let flag = cancellation?.error {
            return fail(RegistryError(.cancelled, operation, "stopped because \(flag.description)"))
        }
        if let deadline, seconds(started) > deadline {
            return fail(timeout("not complete after \(format(deadline)) s"))
        }
        if status == 0 {
            return seconds(started) > timeouts.response ? fail(timeout("no response within \(format(timeouts.response)) s")) : true
        }
        if seconds(lastActivity) > timeouts.idle {
            return fail(timeout("no data for \(format(timeouts.idle)) s"))
        }
        if seconds(windowStart) >= timeouts.lowSpeedWindow {
            if bytes - windowBytes < timeouts.lowSpeedBytes {
                return fail(timeout("less than \(timeouts.lowSpeedBytes) bytes in \(format(timeouts.lowSpeedWindow)) s"))
            }
            windowStart = now
            windowBytes = bytes
        }
        return true
    }

    func result(code: CURLcode, status reported: Int, url: URL) throws -> HTTPResponse {
        if let failure { throw failure }
        // An error body cut at its limit ends the transfer on purpose.
        if code != CURLE_OK && !(truncated && code == CURLE_WRITE_ERROR) { throw describe(code) }
        let status = self.status > 0 ? self.status : reported
        guard status > 0 else {
            throw RegistryError(.transport, operation, "the server sent no HTTP response", retryable: true)
        }
        return HTTPResponse(status: status, headers: headers, body: body, url: url, truncated: truncated)
    }

    private func describe(_ code: CURLcode) -> RegistryError {
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return timeout(status == 0 ? "no connection within \(format(timeouts.response)) s" : "libcurl's timeout")
        case CURLE_COULDNT_CONNECT:
            return RegistryError(.transport, operation, "connection refused", retryable: true)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return RegistryError(.transport, operation, "cannot resolve the host name", retryable: true)
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE:
            return RegistryError(.transport, operation, status == 0 ? "the connection was lost before a response"
                                     : "the connection was lost before the response was complete", retryable: true)
        case CURLE_PEER_FAILED_VERIFICATION:
            return RegistryError(.insecure, operation, "TLS failed: the server's certificate is not trusted (\(String(cString: curl_easy_strerror(code)))); \(trust.hint)")
        case CURLE_SSL_CACERT_BADFILE:
            return RegistryError(.insecure, operation, "TLS failed: cannot read the trusted CA certificates (\(trustedLocations)): check that the file exists and holds PEM certificates")
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM:
            return RegistryError(.insecure, operation, "TLS failed (\(String(cString: curl_easy_strerror(code)))): the server does not speak HTTPS there, or its certificate is not trusted; \(trust.hint)")
        case CURLE_ABORTED_BY_CALLBACK:
            return RegistryError(.cancelled, operation, "cancelled")
        default:
            return RegistryError(.transport, operation, "network error \(code.rawValue): \(String(cString: curl_easy_strerror(code)))", retryable: true)
        }
    }

    private var trustedLocations: String {
        let named = [trust.bundle, trust.directory].compactMap { $0 }.map { "\(Printable.escape($0.path)), from \($0.variable)" }
        return named.isEmpty ? "libcurl's built-in CA bundle" : named.joined(separator: "; ")
    }

    private func timeout(_ reason: String) -> RegistryError {
        RegistryError(.timeout, operation, "timed out: \(reason)", retryable: true)
    }

    private func format(_ value: TimeInterval) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
