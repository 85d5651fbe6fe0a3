package postgres

// IdempotentWrites tells a coordinated run (split.Idempotent) that a
// split redone after its worker died leaves one copy of its rows: modes
// upsert and cdc write by key, so the redo rewrites the same rows. Append
// adds them again.
func (s *Sink) IdempotentWrites() bool { return s.mode == modeUpsert || s.mode == modeCDC }
