import DevenvOCI

/// What a pull or push reports while it runs, for progress displays. Events for
/// different blobs arrive from different threads; a handler must be thread-safe.
public enum TransferEvent: Sendable {
    public enum Skip: Sendable, Equatable {
        /// Already in the local store (pull) or in the target repository (push).
        case present
        /// Mounted from another repository of the same registry (push).
        case mounted(from: String)
    }

    /// The manifest is known: these blobs (config first, then layers) are involved.
    case resolved(manifest: Descriptor, blobs: [Descriptor])
    /// Another process is downloading the same blob into this store; this one waits for it.
    case sharing(Descriptor)
    case started(Descriptor)
    /// `completed` bytes of the blob are done.
    case progress(Descriptor, completed: Int64)
    case retrying(Descriptor, attempt: Int, reason: String)
    case skipped(Descriptor, Skip)
    /// Verified (pull) or accepted by the registry (push).
    case finished(Descriptor)
}

public typealias TransferProgress = @Sendable (TransferEvent) -> Void
