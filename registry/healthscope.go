package registry

// OnlyTeams returns h with only the reports whose team keep accepts: what a
// team admin may read of a version's health (reports carry the reporter's
// user id, message and stack, which belong to the team they came from). A
// report without a team (made before reports were scoped to teams) is
// kept only when keep accepts "". The counts and the flag stay the
// version's, over every team: they say how the version fares, not what
// any team's users did.
func (h Health) OnlyTeams(keep func(teamID string) bool) Health {
	recent := make([]CrashReport, 0, len(h.Recent))
	for _, c := range h.Recent {
		if keep(c.TeamID) {
			recent = append(recent, c)
		}
	}
	h.Recent = recent
	return h
}
