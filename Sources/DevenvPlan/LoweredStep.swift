import DevenvText

/// A step as a front end lowered it: what it does, how its file says it, and where.
public struct LoweredStep: Sendable {
    public var step: Step
    /// The step in the front end's words (`PlannedStep.definition` in the builder).
    public var definition: String
    public var location: SourceLocation

    public init(step: Step, definition: String, location: SourceLocation) {
        self.step = step
        self.definition = definition
        self.location = location
    }
}
