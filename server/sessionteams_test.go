package server

import (
	"fmt"
	"testing"
)

func TestSessionTeamsBounded(t *testing.T) {
	t.Parallel()
	st := newSessionTeams(100)
	for i := range 1000 {
		st.set(fmt.Sprintf("token%d", i), "team")
		if i == 10 {
			st.get("token0") // a lookup does not keep a session
			st.set("token1", "other")
		}
	}
	if n := st.len(); n != 100 {
		t.Fatalf("%d sessions remembered, want the bound, 100", n)
	}
	if st.get("token999") != "team" || st.get("token1") != "" || st.get("token500") != "" {
		t.Fatal("the least recently set sessions must be forgotten first")
	}
	if !st.set("token999", "b") || st.set("token999", "b") {
		t.Fatal("set reports a change of team, and only that")
	}
	st.forget("token999")
	if st.get("token999") != "" || st.len() != 99 {
		t.Fatal("forget keeps the session")
	}
	if st.set("", "team") || st.set("tok", "") {
		t.Fatal("an empty token or team is not recorded")
	}
}

func TestSessionTeamsHoldNoTokens(t *testing.T) {
	t.Parallel()
	st := newSessionTeams(10)
	st.set("secret-token-value", "team")
	for k := range st.m {
		if string(k[:]) == "secret-token-value" {
			t.Fatal("token kept in the clear")
		}
	}
}

func TestSessionTeamsPerUser(t *testing.T) {
	t.Parallel()
	st := newSessionTeams(10)
	st.setUser("u1", "beta")
	if st.getUser("u1") != "beta" || st.getUser("u2") != "" || st.get("u1") != "" {
		t.Fatal("a user's team is kept apart from sessions'")
	}
}
