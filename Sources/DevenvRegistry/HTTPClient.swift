import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Synchronous HTTP over one URLSession (libcurl underneath on Linux). Each `send` blocks
/// its calling thread until the transfer ends; bodies are buffered under a limit or
/// streamed to a sink. Redirects are never followed here: the caller decides where
/// credentials may go. A watchdog enforces the response, idle, low-speed and total
/// timeouts, because URLSession's own timeout is whole seconds and resets on every byte.
final class HTTPClient: @unchecked Sendable {
    private let session: URLSession
    private let router: TransferRouter
    let timeouts: RegistryConfiguration.Timeouts
    let errorBodyLimit: Int
    let userAgent: String

    init(timeouts: RegistryConfiguration.Timeouts, errorBodyLimit: Int, userAgent: String) {
        self.timeouts = timeouts
        self.errorBodyLimit = errorBodyLimit
        self.userAgent = userAgent
        let configuration = URLSessionConfiguration.ephemeral
        // A backstop only; the watchdog below fires first.
        configuration.timeoutIntervalForRequest = (max(timeouts.response, timeouts.idle) + 5).rounded(.up)
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpMaximumConnectionsPerHost = 8
        router = TransferRouter()
        let queue = OperationQueue()
        // Serial: a transfer's response and body chunks must arrive in order.
        queue.maxConcurrentOperationCount = 1
        queue.name = "devenv.registry.http"
        session = URLSession(configuration: configuration, delegate: router, delegateQueue: queue)
    }

    deinit {
        session.invalidateAndCancel()
    }

    /// Performs `request`. Transport failures and timeouts throw a retryable
    /// `RegistryError`; any HTTP status is returned, not thrown.
    func send(_ request: HTTPRequest, handling: BodyHandling, deadline: TimeInterval? = nil,
              cancellation: CancellationFlag? = nil) throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url, cachePolicy: .reloadIgnoringLocalCacheData,
                                    timeoutInterval: (max(timeouts.response, timeouts.idle) + 5).rounded(.up))
        urlRequest.httpMethod = request.method
        urlRequest.setValue(userAgent, forHTTPHeaderField: "User-Agent")
        for (name, value) in request.headers {
            urlRequest.setValue(value, forHTTPHeaderField: name)
        }
        let operation = "\(request.method) \(HTTPMessage.display(request.url))"
        let transfer = Transfer(handling: handling, errorBodyLimit: errorBodyLimit, operation: operation)
        let task: URLSessionDataTask
        if let body = request.body {
            task = session.uploadTask(with: urlRequest, from: body)
        } else {
            task = session.dataTask(with: urlRequest)
        }
        transfer.task = task
        router.register(transfer, for: task)
        let watchdog = Watchdog(transfer: transfer, timeouts: timeouts, deadline: deadline, cancellation: cancellation)
        watchdog.start()
        task.resume()
        transfer.done.wait()
        watchdog.stop()
        return try transfer.result(task: task)
    }
}

/// Routes session-level delegate callbacks to the transfer of each task.
private final class TransferRouter: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var transfers: [Int: Transfer] = [:]

    func register(_ transfer: Transfer, for task: URLSessionTask) {
        lock.lock()
        transfers[task.taskIdentifier] = transfer
        lock.unlock()
    }

    private func transfer(for task: URLSessionTask, remove: Bool = false) -> Transfer? {
        lock.lock()
        defer { lock.unlock() }
        return remove ? transfers.removeValue(forKey: task.taskIdentifier) : transfers[task.taskIdentifier]
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        transfer(for: dataTask)?.received(response: response)
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        transfer(for: dataTask)?.received(data: data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        // Never follow: the copied request would carry Authorization to the new host.
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        // URLSession on Linux stalls a 401 under default handling; authentication is the
        // caller's job (Authenticator), so decline and hand back the 401 as it is.
        transfer(for: task)?.declinedChallenge()
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        transfer(for: task, remove: true)?.completed(error: error)
    }
}

/// The state of one request while it runs. Delegate callbacks arrive on the session's
/// serial queue; the watchdog reads the timestamps from its own queue, hence the lock.
private final class Transfer: @unchecked Sendable {
    let handling: BodyHandling
    let errorBodyLimit: Int
    let operation: String
    let done = DispatchSemaphore(value: 0)
    weak var task: URLSessionTask?

    private let lock = NSLock()
    private var response: HTTPURLResponse?
    private var body = Data()
    private var failure: RegistryError?
    private var transportError: Error?
    private var truncated = false
    private var begun = false
    private var challengeDeclined = false
    private(set) var started = DispatchTime.now().uptimeNanoseconds
    private var lastActivity = DispatchTime.now().uptimeNanoseconds
    private var bytes: Int64 = 0

    init(handling: BodyHandling, errorBodyLimit: Int, operation: String) {
        self.handling = handling
        self.errorBodyLimit = errorBodyLimit
        self.operation = operation
    }

    struct Progress {
        var hasResponse: Bool
        var lastActivity: UInt64
        var bytes: Int64
        var finished: Bool
    }

    func progress() -> Progress {
        lock.lock()
        defer { lock.unlock() }
        return Progress(hasResponse: response != nil, lastActivity: lastActivity, bytes: bytes, finished: failure != nil)
    }

    func received(response: URLResponse) {
        lock.lock()
        self.response = response as? HTTPURLResponse
        lastActivity = DispatchTime.now().uptimeNanoseconds
        lock.unlock()
    }

    func received(data: Data) {
        lock.lock()
        guard failure == nil, !truncated else { lock.unlock(); return }
        lastActivity = DispatchTime.now().uptimeNanoseconds
        bytes += Int64(data.count)
        let status = response?.statusCode ?? 0
        let success = (200..<300).contains(status)
        // A successful streamed body goes to its sink; anything else is kept in memory, up to
        // the buffer's limit, or (an error's body, for the message) up to errorBodyLimit.
        let cap: Int
        switch handling {
        case let .stream(sink) where success:
            let first = !begun
            begun = true
            let headers = first ? Self.headers(of: response) : [:]
            lock.unlock()
            do {
                if first { try sink.begin(status, headers) }
                try sink.consume(data)
            } catch {
                fail(error as? RegistryError ?? RegistryError(.store, operation, "\(error)"))
            }
            return
        case let .buffer(limit):
            cap = success ? limit : errorBodyLimit
        case .stream:
            cap = errorBodyLimit
        }
        guard body.count + data.count > cap else {
            body.append(data)
            lock.unlock()
            return
        }
        if success {
            failure = RegistryError(.tooLarge, operation, "the response body is larger than the limit of \(cap) bytes")
        } else {
            body.append(data.prefix(cap - body.count))
            truncated = true
        }
        lock.unlock()
        task?.cancel()
    }

    /// Records the first failure and stops the transfer.
    func fail(_ error: RegistryError) {
        lock.lock()
        let first = failure == nil
        if first { failure = error }
        lock.unlock()
        if first { task?.cancel() }
    }

    func declinedChallenge() {
        lock.lock()
        challengeDeclined = true
        lock.unlock()
    }

    func completed(error: Error?) {
        lock.lock()
        if let error, failure == nil, !truncated, !(challengeDeclined && response != nil) {
            transportError = error
        }
        lock.unlock()
        done.signal()
    }

    func result(task: URLSessionTask) throws -> HTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        if let transportError { throw Self.describe(transportError, operation: operation) }
        guard let response = response ?? task.response as? HTTPURLResponse else {
            throw RegistryError(.transport, operation, "the server sent no HTTP response", retryable: true)
        }
        return HTTPResponse(status: response.statusCode, headers: Self.headers(of: response), body: body,
                            url: response.url ?? task.originalRequest?.url ?? URL(fileURLWithPath: "/"), truncated: truncated)
    }

    static func headers(of response: HTTPURLResponse?) -> [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in response?.allHeaderFields ?? [:] {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return headers
    }

    static func describe(_ error: Error, operation: String) -> RegistryError {
        guard let urlError = error as? URLError else {
            return RegistryError(.transport, operation, "\(error)", retryable: true)
        }
        switch urlError.code {
        case .timedOut:
            return RegistryError(.timeout, operation, "timed out", retryable: true)
        case .cannotConnectToHost:
            return RegistryError(.transport, operation, "connection refused", retryable: true)
        case .networkConnectionLost:
            return RegistryError(.transport, operation, "the connection was lost before the response was complete", retryable: true)
        case .cannotFindHost, .dnsLookupFailed:
            return RegistryError(.transport, operation, "cannot resolve the host name", retryable: true)
        case .notConnectedToInternet:
            return RegistryError(.transport, operation, "no network", retryable: true)
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return RegistryError(.insecure, operation, "TLS failed (\(urlError.code.rawValue)): the registry's certificate is not trusted, or it does not speak HTTPS")
        case .cancelled:
            return RegistryError(.cancelled, operation, "cancelled")
        default:
            return RegistryError(.transport, operation, "network error \(urlError.code.rawValue): \(urlError.localizedDescription)", retryable: true)
        }
    }
}

/// Cancels a transfer that waits too long for its response, goes silent, crawls, or runs
/// past its deadline (RELIABILITY A6a/b).
private final class Watchdog: @unchecked Sendable {
    private let transfer: Transfer
    private let timeouts: RegistryConfiguration.Timeouts
    private let deadline: TimeInterval?
    private let cancellation: CancellationFlag?
    private let timer: DispatchSourceTimer
    private var windowStart: UInt64
    private var windowBytes: Int64 = 0

    init(transfer: Transfer, timeouts: RegistryConfiguration.Timeouts, deadline: TimeInterval?, cancellation: CancellationFlag?) {
        self.transfer = transfer
        self.timeouts = timeouts
        self.deadline = deadline
        self.cancellation = cancellation
        windowStart = transfer.started
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
    }

    func start() {
        let shortest = [timeouts.response, timeouts.idle, timeouts.lowSpeedWindow, deadline ?? .infinity].min() ?? 1
        let tick = max(0.02, min(0.5, shortest / 5))
        timer.schedule(deadline: .now() + tick, repeating: tick)
        timer.setEventHandler { [weak self] in self?.check() }
        timer.resume()
    }

    func stop() {
        timer.cancel()
    }

    private func check() {
        let state = transfer.progress()
        guard !state.finished else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        func seconds(_ since: UInt64) -> TimeInterval { TimeInterval(now &- since) / 1e9 }
        if let flag = cancellation?.error {
            return transfer.fail(RegistryError(.cancelled, transfer.operation, "stopped because \(flag.description)"))
        }
        if let deadline, seconds(transfer.started) > deadline {
            return transfer.fail(timeout("not complete after \(format(deadline)) s"))
        }
        if !state.hasResponse {
            if seconds(transfer.started) > timeouts.response {
                transfer.fail(timeout("no response within \(format(timeouts.response)) s"))
            }
            return
        }
        if seconds(state.lastActivity) > timeouts.idle {
            return transfer.fail(timeout("no data for \(format(timeouts.idle)) s"))
        }
        if seconds(windowStart) >= timeouts.lowSpeedWindow {
            if state.bytes - windowBytes < timeouts.lowSpeedBytes {
                return transfer.fail(timeout("less than \(timeouts.lowSpeedBytes) bytes in \(format(timeouts.lowSpeedWindow)) s"))
            }
            windowStart = now
            windowBytes = state.bytes
        }
    }

    private func timeout(_ reason: String) -> RegistryError {
        RegistryError(.timeout, transfer.operation, "timed out: \(reason)", retryable: true)
    }

    private func format(_ value: TimeInterval) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
