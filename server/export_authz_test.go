package server

// SetKVUserLimits lowers the per-user KV totals for a test; the returned
// func restores them.
func SetKVUserLimits(keys, bytes int64) (restore func()) {
	oldKeys, oldBytes := kvUserMaxKeys, kvUserMaxBytes
	kvUserMaxKeys, kvUserMaxBytes = keys, bytes
	return func() { kvUserMaxKeys, kvUserMaxBytes = oldKeys, oldBytes }
}
