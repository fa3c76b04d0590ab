package console

import "github.com/mmtoolkit/mmtoolkit/registry"

// visibleHealth is what v may read of a plugin's crash reports: every
// report for a system admin; for a team admin, only the reports of teams
// they administer (a report carries a user, a message and a stack from its
// team). The counts and the flag stay the version's (OnlyTeams).
func visibleHealth(v *Viewer, health map[string]registry.Health) map[string]registry.Health {
	if v.SystemAdmin {
		return health
	}
	admins := make(map[string]bool, len(v.AdminTeams))
	for _, t := range v.AdminTeams {
		admins[t.ID] = true
	}
	out := make(map[string]registry.Health, len(health))
	for version, h := range health {
		out[version] = h.OnlyTeams(func(teamID string) bool { return admins[teamID] })
	}
	return out
}
