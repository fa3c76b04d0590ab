package bundler_test

import (
	"errors"
	"fmt"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

func ExampleBuild() {
	pkg := &pluginpkg.Package{
		Manifest: pluginpkg.Manifest{
			ID: "com.example.hello", Name: "Hello", Version: "1.0.0",
			Webapp: &pluginpkg.Webapp{Entry: "webapp/index.tsx"},
		},
		Files: map[string][]byte{
			"webapp/index.tsx": []byte(`import './hello.css';
const Hello = ({name}: {name: string}) => <p className='hello'>Hello {name}</p>;
window.registerPlugin('com.example.hello', {
    initialize(registry: any) {
        registry.registerRootComponent(() => <Hello name='world'/>);
    },
});
`),
			"webapp/hello.css": []byte(".hello { color: var(--button-bg); }\n"),
		},
	}
	res, err := bundler.Build(pkg, bundler.Web)
	if err != nil {
		panic(err)
	}
	fmt.Println("host modules:", res.HostModules)
	fmt.Println("inputs:", res.Inputs)

	// A typo in an import is a diagnostic located at the import.
	pkg.Files["webapp/index.tsx"] = []byte("import {debounce} from 'lodahs';\nexport default debounce;\n")
	_, err = bundler.Build(pkg, bundler.Web)
	var ce *bundler.CompileError
	if errors.As(err, &ce) {
		d := ce.Diagnostics[0]
		fmt.Printf("%s:%d:%d\n", d.File, d.Line, d.Column+1)
	}
	// Output:
	// host modules: [react]
	// inputs: [webapp/hello.css webapp/index.tsx]
	// webapp/index.tsx:1:24
}
