// DevenvRuntime
