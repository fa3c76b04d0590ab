package changes

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

func TestPublishDeliversInSubscriptionOrder(t *testing.T) {
	var f Feed
	var got []string
	f.Subscribe("first", func(_ context.Context, c Change) { got = append(got, "first:"+c.Kind()) })
	On(&f, "versions", func(_ context.Context, c VersionStored) { got = append(got, "versions:"+c.Version.Version) })
	On(&f, "teams", func(_ context.Context, c TeamStateChanged) { got = append(got, "teams:"+c.TeamID) })
	f.Subscribe("last", func(_ context.Context, c Change) { got = append(got, "last:"+c.Kind()) })

	f.Publish(context.Background(), VersionStored{Version: &registry.Version{Version: "1.0.0"}})
	f.Publish(context.Background(), TeamStateChanged{TeamID: "t1"})
	f.Publish(context.Background(), BlobsPruned{SHAs: []string{"a"}})
	want := []string{
		"first:version", "versions:1.0.0", "last:version",
		"first:team_state", "teams:t1", "last:team_state",
		"first:prune", "last:prune",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("delivered\n %q\nwant\n %q", got, want)
	}
	if names := f.Subscribers(); !slices.Equal(names, []string{"first", "versions", "teams", "last"}) {
		t.Fatalf("subscribers %q", names)
	}
}

func TestOnSeparatesChangesOfOneKind(t *testing.T) {
	// A certification raise is logged as a version change but is not a
	// new version: a subscriber to VersionStored must not see it.
	var f Feed
	stored, certified := 0, 0
	On(&f, "stored", func(context.Context, VersionStored) { stored++ })
	On(&f, "certified", func(context.Context, VersionCertified) { certified++ })
	f.Publish(context.Background(), VersionCertified{Version: &registry.Version{}})
	if stored != 0 || certified != 1 {
		t.Fatalf("stored %d certified %d, want 0 1", stored, certified)
	}
	if (VersionStored{}).Remote() || !(VersionStored{AsOf: 7}).Remote() {
		t.Fatal("Remote follows AsOf")
	}
}

func TestPublishWithoutSubscribersAndConcurrently(t *testing.T) {
	var f Feed
	f.Publish(context.Background(), ServerPartChanged{}) // no subscriber: nothing happens
	var mu sync.Mutex
	n := 0
	f.Subscribe("count", func(context.Context, Change) { mu.Lock(); n++; mu.Unlock() })
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				f.Publish(context.Background(), EncodingsStored{SHA: "x"})
			}
		}()
	}
	wg.Wait()
	if n != 800 {
		t.Fatalf("delivered %d, want 800", n)
	}
}

func TestTeamStateRow(t *testing.T) {
	after, before, err := TeamStateRow([]byte(`{"team_id":"t","plugin_id":"p","enabled":true,"version":"1.0.0","was_enabled":false,"was_version":"0.9.0"}`))
	if err != nil || after != (registry.TeamState{TeamID: "t", PluginID: "p", Enabled: true, Version: "1.0.0"}) ||
		before == nil || *before != (registry.TeamState{TeamID: "t", PluginID: "p", Version: "0.9.0"}) {
		t.Fatalf("after %+v before %+v (%v)", after, before, err)
	}
	// A row from a binary that did not record the state before.
	if _, before, err := TeamStateRow([]byte(`{"team_id":"t","plugin_id":"p","enabled":true}`)); err != nil || before != nil {
		t.Fatalf("old row: before %+v (%v), want none", before, err)
	}
	if _, _, err := TeamStateRow([]byte(`{`)); err == nil {
		t.Fatal("a broken row decoded")
	}
}
