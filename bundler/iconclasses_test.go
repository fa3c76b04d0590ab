package bundler

import "testing"

func TestUsesIconClasses(t *testing.T) {
	tests := []struct {
		name string
		js   string
		want bool
	}{
		{"font awesome class", `e.createElement("i",{className:"fa fa-plug"})`, true},
		{"font awesome prefix in a template", "className:`fa-${n}`", true},
		{"bare fa class", `classNames('fa',x)`, true},
		{"compass class", `jsx("i",{className:"icon icon-brand-zoom"})`, true},
		{"compass prefix concatenated", `"icon-"+name`, true},
		{"compass prefix after a space", `"CompassIcon icon-"+n`, true},
		{"no icon classes", `jsx("button",{className:"video-call-button"},"Call")`, false},
		{"suffix of another class", `className:"call-icon-button sofa-x"`, false},
		{"identifier fa", `var fa=1;fa(2)`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UsesIconClasses([]byte(tt.js)); got != tt.want {
				t.Errorf("UsesIconClasses(%q) = %v, want %v", tt.js, got, tt.want)
			}
		})
	}
}
