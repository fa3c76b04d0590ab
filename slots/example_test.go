package slots_test

import (
	"context"
	"fmt"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

func ExampleLookup() {
	s, _ := slots.Lookup("post_type")
	fmt.Println(s.RegistryMethods[0], s.Props, s.On(slots.IOS))
	// Output: registerPostTypeComponent [post theme isRHS compactDisplay] true
}

// fakeSource is a registry with one plugin, enabled for team t1.
type fakeSource struct{}

func (fakeSource) TeamStates(ctx context.Context, team string) (map[string]registry.TeamState, error) {
	if team != "t1" {
		return nil, nil
	}
	return map[string]registry.TeamState{"com.example.map": {Enabled: true}}, nil
}

func (fakeSource) Plugin(ctx context.Context, id string) (*registry.Plugin, error) {
	return &registry.Plugin{ID: id, Versions: []string{"1.0.0"}, Latest: "1.0.0"}, nil
}

func (fakeSource) Version(ctx context.Context, id, v string) (*registry.Version, error) {
	ver := &registry.Version{PluginID: id, Version: v, Artifacts: map[string]registry.Artifact{
		registry.WebJS: {SHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", Size: 3},
	}}
	ver.Manifest.Name = "Map"
	return ver, nil
}

func ExampleBuild() {
	m, _ := slots.Build(context.Background(), fakeSource{}, "t1", slots.Web)
	p := m.Plugins[0]
	fmt.Println(p.ID, p.Version, p.Bundle.URL, p.Bundle.Integrity)
	other, _ := slots.Build(context.Background(), fakeSource{}, "t2", slots.Web)
	fmt.Println(len(other.Plugins))
	// Output:
	// com.example.map 1.0.0 /bundles/2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae.js sha256-LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=
	// 0
}
