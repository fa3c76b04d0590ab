package registry_test

import (
	"encoding/json"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

func TestCertificationOrderAndNames(t *testing.T) {
	order := []registry.Certification{registry.Unverified, registry.Community, registry.Certified, registry.Official}
	for i, lo := range order {
		for j, hi := range order {
			if got, want := hi.Meets(lo), j >= i; got != want {
				t.Errorf("%s.Meets(%s) = %v, want %v", hi, lo, got, want)
			}
		}
		back, err := registry.ParseCertification(lo.String())
		if err != nil || back != lo {
			t.Errorf("ParseCertification(%q) = %v, %v", lo.String(), back, err)
		}
	}
	if c, err := registry.ParseCertification(" Official "); err != nil || c != registry.Official {
		t.Errorf("case and spaces: %v %v", c, err)
	}
	if _, err := registry.ParseCertification("gold"); err == nil {
		t.Error("an unknown level parsed")
	}
	// JSON spells the level; a record without the field is unverified.
	var v struct {
		C registry.Certification `json:"c"`
	}
	if b, _ := json.Marshal(struct {
		C registry.Certification `json:"c"`
	}{registry.Certified}); string(b) != `{"c":"certified"}` {
		t.Errorf("marshal: %s", b)
	}
	v.C = registry.Official
	if err := json.Unmarshal([]byte(`{}`), &v); err != nil || v.C != registry.Official {
		t.Errorf("absent field must leave the value: %v %v", v.C, err)
	}
	var old registry.Version
	if err := json.Unmarshal([]byte(`{"plugin_id":"a","version":"1.0.0"}`), &old); err != nil || old.Certification != registry.Unverified {
		t.Errorf("a version stored before certification: %v %v", old.Certification, err)
	}
	if err := json.Unmarshal([]byte(`{"c":"platinum"}`), &v); err == nil {
		t.Error("an unknown level decoded")
	}
	if _, err := json.Marshal(registry.Certification(9)); err == nil {
		t.Error("an invalid level encoded")
	}
}

// TestPutRecordsCertificationAndRaisesItOnIdenticalRepush: the level and
// signer are stored with the version; the same content pushed again with a
// higher level raises it (audited), a lower or equal one changes nothing.
func TestPutRecordsCertificationAndRaisesItOnIdenticalRepush(t *testing.T) {
	forEachStoreClock(t, func(t *testing.T, s testStore) {
		v, blobs := registrytest.Version("com.example.c", "1.0.0")
		v.Certification, v.SignerKey = registry.Community, "SHA256:community"
		res, err := s.PutVersion(ctx, v, blobs, dev)
		if err != nil || !res.Created || res.Version.Certification != registry.Community || res.Version.SignerKey != "SHA256:community" {
			t.Fatalf("first put: %+v %v", res, err)
		}

		lower := *v
		lower.Certification, lower.SignerKey = registry.Unverified, ""
		res, err = s.PutVersion(ctx, &lower, nil, dev)
		if err != nil || res.Created || res.Certified || res.Version.Certification != registry.Community {
			t.Fatalf("unsigned identical re-push: %+v %v", res, err)
		}

		higher := *v
		higher.Certification, higher.SignerKey = registry.Certified, "SHA256:certifier"
		res, err = s.PutVersion(ctx, &higher, nil, dev)
		if err != nil || res.Created || !res.Certified || res.Version.Certification != registry.Certified {
			t.Fatalf("certified identical re-push: %+v %v", res, err)
		}
		got, err := s.Version(ctx, "com.example.c", "1.0.0")
		if err != nil || got.Certification != registry.Certified || got.SignerKey != "SHA256:certifier" || got.PackageSHA256 != v.PackageSHA256 {
			t.Fatalf("stored after certify: %+v %v", got, err)
		}
		entries := audit(t, s, registry.AuditFilter{PluginID: "com.example.c"})
		if len(entries) != 2 || entries[0].Action != registry.ActionCertify || entries[0].Detail != "community -> certified, key SHA256:certifier" {
			t.Fatalf("audit: %+v", entries)
		}
		verify(t, s)

		bad := *v
		bad.Version, bad.Manifest.Version = "1.0.1", ""
		bad.Certification = registry.Certification(7)
		if _, err := s.PutVersion(ctx, &bad, blobs, dev); err == nil {
			t.Fatal("an invalid level was stored")
		}
	})
}
