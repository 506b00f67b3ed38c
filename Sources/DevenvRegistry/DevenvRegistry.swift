// DevenvRegistry
