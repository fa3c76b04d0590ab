// Package slots is the catalogue of named UI slots plugins fill, and the
// builder of the per-team slot manifest the webapp and mobile hosts fetch.
//
// The catalogue is data: each Slot says where it exists, what props the host
// passes and which Mattermost registry method fills it, so that a plugin's
// declared slots can be validated at push time and the hosts can lazy-load
// only the plugins that fill a slot on screen.
package slots

// Platform is where a slot exists.
type Platform string

const (
	Web     Platform = "web"
	IOS     Platform = "ios"
	Android Platform = "android"
)

// Slot describes one named slot.
type Slot struct {
	Name string `json:"name"`
	// Platforms the slot is rendered on. Mobile slots exist on ios and android.
	Platforms []Platform `json:"platforms"`
	// Props the host passes to a component registered in the slot.
	Props []string `json:"props,omitempty"`
	// RegistryMethods are the Mattermost PluginRegistry methods that fill it.
	RegistryMethods []string `json:"registry_methods"`
	// MattermostKey is the key in Mattermost's state.plugins.components (or
	// postTypes) where registrations land.
	MattermostKey string `json:"mattermost_key,omitempty"`
	Description   string `json:"description"`
}

var (
	all     = []Platform{Web, IOS, Android}
	webOnly = []Platform{Web}
)

// Catalogue lists every slot, in the order the admin console shows them.
var Catalogue = []Slot{
	{Name: "post_type", Platforms: all, Props: []string{"post", "theme", "isRHS", "compactDisplay"},
		RegistryMethods: []string{"registerPostTypeComponent"}, MattermostKey: "postTypes",
		Description: "Replaces the message body of posts of a custom_ type."},
	{Name: "call_button", Platforms: all, Props: []string{"channel", "channelMember", "theme"},
		RegistryMethods: []string{"registerCallButtonAction"}, MattermostKey: "CallButton",
		Description: "The call button in the channel header."},
	{Name: "channel_header_button", Platforms: webOnly, Props: []string{"channel", "channelMember", "theme"},
		RegistryMethods: []string{"registerChannelHeaderButtonAction"}, MattermostKey: "ChannelHeaderButton",
		Description: "An icon button in the channel header."},
	{Name: "app_center", Platforms: all, Props: []string{"team", "theme"},
		RegistryMethods: []string{"registerProduct", "registerNeedsTeamRoute"}, MattermostKey: "NeedsTeamComponent",
		Description: "A full view reached from an app-bar icon or a main-menu entry."},
	{Name: "app_bar", Platforms: webOnly, Props: []string{"theme"},
		RegistryMethods: []string{"registerAppBarComponent"}, MattermostKey: "AppBar",
		Description: "An icon in the right-hand app bar."},
	{Name: "main_menu", Platforms: webOnly,
		RegistryMethods: []string{"registerMainMenuAction"}, MattermostKey: "MainMenu",
		Description: "An entry in the team's main menu."},
	{Name: "root", Platforms: webOnly, Props: []string{"theme"},
		RegistryMethods: []string{"registerRootComponent"}, MattermostKey: "Root",
		Description: "Mounted at the root of the channel view: modals and global listeners."},
	{Name: "right_hand_sidebar", Platforms: webOnly, Props: []string{"theme"},
		RegistryMethods: []string{"registerRightHandSidebarComponent"}, MattermostKey: "RightHandSidebarComponent",
		Description: "A panel in the right-hand sidebar."},
	{Name: "post_dropdown_menu", Platforms: webOnly,
		RegistryMethods: []string{"registerPostDropdownMenuAction", "registerPostDropdownSubMenuAction"}, MattermostKey: "PostDropdownMenu",
		Description: "An action in a post's \"...\" menu."},
	{Name: "slash_command_hook", Platforms: webOnly,
		RegistryMethods: []string{"registerSlashCommandWillBePostedHook"},
		Description:     "Sees (and may rewrite or swallow) slash commands before they are sent."},
	{Name: "message_will_be_posted_hook", Platforms: webOnly,
		RegistryMethods: []string{"registerMessageWillBePostedHook"},
		Description:     "Sees (and may rewrite or reject) messages before they are posted."},
	{Name: "websocket_event", Platforms: webOnly,
		RegistryMethods: []string{"registerWebSocketEventHandler"},
		Description:     "Receives websocket events, core and custom_<pluginid>_<event>."},
	{Name: "reducer", Platforms: webOnly,
		RegistryMethods: []string{"registerReducer"}, MattermostKey: "plugins-<pluginid>",
		Description: "A Redux reducer mounted at state['plugins-<pluginid>']."},
	{Name: "translations", Platforms: webOnly,
		RegistryMethods: []string{"registerTranslations"},
		Description:     "Strings merged into react-intl for the user's locale."},
}

var byName = func() map[string]*Slot {
	m := make(map[string]*Slot, len(Catalogue))
	for i := range Catalogue {
		m[Catalogue[i].Name] = &Catalogue[i]
	}
	return m
}()

// Known reports whether name is a slot of the catalogue.
func Known(name string) bool { _, ok := byName[name]; return ok }

// Lookup returns the slot called name.
func Lookup(name string) (Slot, bool) {
	s, ok := byName[name]
	if !ok {
		return Slot{}, false
	}
	return *s, true
}

// On reports whether the slot exists on platform p.
func (s Slot) On(p Platform) bool {
	for _, q := range s.Platforms {
		if q == p {
			return true
		}
	}
	return false
}
