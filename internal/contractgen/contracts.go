package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// inputs are the contracts that are Go data rather than Go types: read by
// reflection from the packages that own them. Tests change a copy to show
// that a one-sided edit is caught.
type inputs struct {
	Catalogue         []slots.Slot
	HostGlobals       map[string]string
	IconsModule       string
	MobileHostModules []string
}

func currentInputs() inputs {
	return inputs{
		Catalogue:         slots.Catalogue,
		HostGlobals:       bundler.HostGlobals,
		IconsModule:       bundler.IconsModule,
		MobileHostModules: bundler.MobileHostModules,
	}
}

// contracts are the generated files: each contract the Go side owns, in
// the TypeScript the webapp host (webapp/src/generated) and the mobile
// host library (mobile/src/generated) import. The TypeScript names are
// the ones the hosts used before they were generated.
func contracts(in inputs) []tsFile {
	const web, mobile = "webapp/src/generated/", "mobile/src/generated/"
	names := func(keep func(slots.Slot) bool) []string {
		var out []string
		for _, s := range in.Catalogue {
			if keep(s) {
				out = append(out, s.Name)
			}
		}
		return out
	}
	all := names(func(slots.Slot) bool { return true })
	var methods []string
	for _, s := range in.Catalogue {
		for _, m := range s.RegistryMethods {
			if !slices.Contains(methods, m) {
				methods = append(methods, m)
			}
		}
	}
	onMobile := names(func(s slots.Slot) bool { return s.On(slots.IOS) || s.On(slots.Android) })
	slotRef := goRef{"slots", "Slot"}
	return []tsFile{
		{
			Path: web + "slots.ts", Indent: "    ",
			From: []string{"slots.Catalogue (slots/slots.go)"},
			Decls: []tsDecl{
				unionDecl{Dir: "slots", Type: "Platform", Doc: "Where a slot exists."},
				rawDecl{union("CatalogueSlotName", "The names of the slot catalogue, in its order.", all)},
				rawDecl{union("CatalogueRegistryMethod", "The PluginRegistry methods that fill the catalogue's slots.", methods)},
				structDecl{Ref: slotRef, TS: "CatalogueSlot", Types: map[string]string{"Name": "CatalogueSlotName", "RegistryMethods": "CatalogueRegistryMethod[]"}},
				valueDecl{TS: "CATALOGUE", Type: "readonly CatalogueSlot[]", Value: in.Catalogue,
					Doc: "Every slot, in the order the admin console shows them (slots.Catalogue)."},
			},
		},
		{
			Path: web + "manifest.ts", Indent: "    ",
			From: []string{"slots.Manifest (slots/manifest.go)", "the client manifest of GET /api/v4/plugins/webapp (server/compat.go)"},
			Decls: []tsDecl{
				structDecl{Ref: goRef{"slots", "Manifest"}, TS: "TeamManifest"},
				structDecl{Ref: goRef{"slots", "Plugin"}, TS: "ManifestPlugin"},
				structDecl{Ref: goRef{"slots", "Bundle"}},
				structDecl{Ref: goRef{"slots", "Fill"}, TS: "SlotFill"},
				structDecl{Ref: goRef{"server", "mattermostClientManifest"}, TS: "ClientManifest"},
			},
		},
		{
			Path: web + "events.ts", Indent: "    ",
			From: []string{"the events of /api/v1/websocket (server/events.go, server/push.go)"},
			Decls: []tsDecl{
				constsDecl{Dir: "server", TS: "ToolkitEvents", Union: "ToolkitEventName",
					Doc: "mmtoolkit's own events; anything else on the socket (custom_<pluginid>_<event>) is a plugin's.",
					Consts: [][2]string{
						{"PluginEnabled", "eventPluginEnabled"}, {"PluginDisabled", "eventPluginDisabled"},
						{"PluginUpdated", "eventPluginUpdated"}, {"PluginBuildFailed", "eventPluginBuildFailed"},
					}},
				structDecl{Ref: goRef{"server", "pluginEventData"}},
				structDecl{Ref: goRef{"server", "buildFailedData"}},
				structDecl{Ref: goRef{"bundler", "Diagnostic"}, TS: "BuildDiagnostic"},
			},
		},
		{
			Path: web + "crash_report.ts", Indent: "    ",
			From:  []string{"the body of POST /api/v1/plugins/{id}/errors (server/crashes.go)"},
			Decls: []tsDecl{structDecl{Ref: goRef{"server", "crashRequest"}, TS: "CrashReportBody", Request: true}},
		},
		{
			Path: web + "shell.ts", Indent: "    ",
			From: []string{"the page's config and team elements (webapp/webapp.go, webapp/shell.templ)"},
			Decls: []tsDecl{
				structDecl{Ref: goRef{"webapp", "shellConfig"}, TS: "ShellPageConfig"},
				structDecl{Ref: goRef{"webapp", "teamJSON"}, TS: "ShellTeam", Types: map[string]string{"Manifest": "TeamManifest"}},
			},
		},
		{
			Path: web + "host_modules.ts", Indent: "    ",
			From: []string{"bundler.HostGlobals, bundler.IconsModule (bundler/host.go)"},
			Decls: []tsDecl{
				valueDecl{TS: "HOST_GLOBALS", Value: in.HostGlobals,
					Doc: "Each module a web bundle may import from the host -> the window global that holds it."},
				rawDecl{"/** A module of HOST_GLOBALS. */\nexport type HostModuleName = keyof typeof HOST_GLOBALS;\n"},
				valueDecl{TS: "ICONS_MODULE", Value: in.IconsModule,
					Doc: "The style-only host module with Mattermost's icon fonts (not a global)."},
			},
		},
		{
			Path: mobile + "slots.ts", Indent: "  ",
			From: []string{"slots.Catalogue (slots/slots.go)", "bundler.MobileHostModules (bundler/bundler.go)"},
			Decls: []tsDecl{
				rawDecl{union("SlotName", "The mobile slots: those of the catalogue that exist on ios or android.", onMobile)},
				rawDecl{fmt.Sprintf("export const SLOT_NAMES: readonly SlotName[] = [%s];\n", quoteAll(onMobile))},
				valueDecl{TS: "HOST_MODULES", Value: in.MobileHostModules,
					Doc: "The modules a mobile bundle may require from the host."},
				rawDecl{"/** A module of HOST_MODULES. */\nexport type HostModuleName = (typeof HOST_MODULES)[number];\n"},
			},
		},
		{
			Path: mobile + "crash_report.ts", Indent: "  ",
			From:  []string{"the body of POST /api/v1/plugins/{id}/errors (server/crashes.go)"},
			Decls: []tsDecl{structDecl{Ref: goRef{"server", "crashRequest"}, TS: "CrashReportBody", Request: true}},
		},
		{
			Path: mobile + "manifest.ts", Indent: "  ",
			From: []string{"slots.MobileManifest (slots/mobile.go)", "mobile.SignatureHeader (mobile/keys.go)"},
			Decls: []tsDecl{
				goConstDecl{Dir: "mobile", Go: "SignatureHeader", TS: "SIGNATURE_HEADER"},
				unionDecl{Dir: "slots", Consts: []string{"IOS", "Android"}, TS: "Platform", Doc: "The platforms with a mobile manifest."},
				unionDecl{Dir: "slots", Consts: []string{"FormatJS", "FormatBytecode"}, TS: "BundleFormat", Doc: "Mobile bundle formats."},
				structDecl{Ref: goRef{"slots", "MobileManifest"}, Types: map[string]string{"Platform": "Platform"}},
				structDecl{Ref: goRef{"slots", "MobilePlugin"}, TS: "ManifestPlugin", Types: map[string]string{"Format": "BundleFormat"}},
				structDecl{Ref: goRef{"slots", "Skipped"}},
				structDecl{Ref: goRef{"slots", "Fill"}, TS: "SlotFill"},
			},
		},
	}
}

func union(name, doc string, vals []string) string {
	return fmt.Sprintf("/** %s */\nexport type %s = %s;\n", doc, name, strings.Join(quoted(vals), " | "))
}

func quoted(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = quote(v)
	}
	return out
}

func quoteAll(vals []string) string { return strings.Join(quoted(vals), ", ") }

// generate renders every contract from the Go source under root.
func generate(root string, in inputs) (map[string][]byte, error) {
	return render(newGoSource(root), contracts(in))
}

// generatedDirs are the directories that hold generated files only.
func generatedDirs(files map[string][]byte) []string {
	seen := map[string]bool{}
	for p := range files {
		seen[p[:strings.LastIndex(p, "/")]] = true
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}
