package sourcemaps

// Waiting is how many requests wait in Wait.
func (m *Maps) Waiting() int64 { return m.waiting.Load() }
