import Testing

/// `#expect(throws:)` that hands back the error, which Swift 6.0's Testing cannot do
/// (its returning form arrived in 6.1). Records an issue when nothing, or something else,
/// is thrown.
@discardableResult
func expectError<E: Error>(_ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> E? {
    do {
        try body()
        Issue.record("expected an error of type \(E.self), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected an error of type \(E.self), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
