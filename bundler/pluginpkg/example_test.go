package pluginpkg_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

func ExampleReadArchive() {
	var archive bytes.Buffer
	err := pluginpkg.WriteArchive(&archive, map[string][]byte{
		"plugin.json":      []byte(`{"id": "com.example.Map", "name": "Map", "version": "1.2.0", "webapp": {"entry": "webapp/index.tsx"}}`),
		"webapp/index.tsx": []byte(`export default function Plugin() { return null }`),
	})
	if err != nil {
		panic(err)
	}

	pkg, err := pluginpkg.ReadArchive(&archive, pluginpkg.Limits{}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(pkg.Manifest.ID, pkg.Manifest.Version, pkg.Manifest.Webapp.Entry, len(pkg.Files))
	// Output: com.example.map 1.2.0 webapp/index.tsx 2
}

func ExampleParseManifest() {
	_, err := pluginpkg.ParseManifest([]byte(`{
		"id": "com.example.map", "name": "Map", "version": "1.2.0",
		"webapp": {"entry": "webapp/index.tsx"},
		"slots": [{"slot": "post_type", "post_type": "map_location"}]
	}`), nil)

	var e *pluginpkg.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Field)
	}
	// Output: manifest_invalid slots[0].post_type
}
