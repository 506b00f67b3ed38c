// DevenvStore
