package snapshot

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const groupsPage = `{"RequestId":"r1","TotalCount":2,"AppInstanceGroupModels":[
 {"AppInstanceGroupId":"aig-secretgroup01","AppInstanceGroupName":"Payroll of ACME Corp","Amount":3,
  "Tags":[{"Key":"department","Value":"finance-acme"}],"ResourceTags":[{"Key":"department","Value":"finance-acme"}],
  "OfficeSiteId":"cn-shanghai+dir-1234567890","NodePool":[{"NodePoolId":"rg-pool01","NodeAmount":2}],
  "Apps":[{"AppId":"ca-acme-payroll","AppName":"ACME Payroll","AppIcon":"https://acme-bucket.oss.example/p.png","AppVersion":"1.2"}]},
 {"AppInstanceGroupId":"aig-secretgroup02","AppInstanceGroupName":"Design","Tags":[{"Key":"department","Value":"finance-acme"}]}]}`

const instancesPage = `{"RequestId":"r2","TotalCount":1,"AppInstanceModels":[
 {"AppInstanceId":"ai-0001","AppInstanceGroupId":"aig-secretgroup01","NodeId":"i-node01","NetworkInterfaceIp":"172.16.3.9",
  "MainEthPublicIp":"47.100.1.2","BindInfo":{"EndUserId":"alice@acme.example"},"SessionStatus":"connect"}]}`

// Every hidden value is replaced, the same value the same way everywhere
// (a group's ID in its app instances' key and fields), and what the
// exporter reads for its series (numbers, tag keys, versions) is kept.
func TestBuildHidesConsistently(t *testing.T) {
	var r Recorder
	r.Record("", "ListAppInstanceGroup", []byte(groupsPage))
	r.Record("", "ListAppInstanceGroup", []byte(groupsPage)) // a group answered twice is one group
	r.Record("", "ListAppInstances", []byte(instancesPage))
	f, err := r.Build([]string{""}, time.Unix(0, 0), "test", []string{"not-in-answers-secret"})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := json.Marshal(f)
	for _, original := range []string{"secretgroup", "ACME", "acme", "1234567890", "rg-pool01", "i-node01", "172.16.3.9", "47.100.1.2", "ai-0001"} {
		if strings.Contains(string(text), original) {
			t.Errorf("the snapshot still contains %q", original)
		}
	}
	acc := f.Accounts[0]
	if acc.Name != "" || len(acc.AppInstanceGroupModels) != 2 {
		t.Fatalf("account %q with %d groups, want the unnamed one with 2", acc.Name, len(acc.AppInstanceGroupModels))
	}
	var g1, g2 struct {
		ID           string `json:"AppInstanceGroupId"`
		Amount       json.Number
		Tags         []struct{ Key, Value string }
		ResourceTags []struct{ Key, Value string }
		OfficeSiteID string `json:"OfficeSiteId"`
		Apps         []struct{ AppVersion string }
	}
	_ = json.Unmarshal(acc.AppInstanceGroupModels[0], &g1)
	_ = json.Unmarshal(acc.AppInstanceGroupModels[1], &g2)
	if g1.ID == g2.ID || !strings.HasPrefix(g1.ID, "aig-") {
		t.Errorf("group IDs %q and %q: want two distinct aig- IDs", g1.ID, g2.ID)
	}
	if g1.Amount != "3" || g1.Tags[0].Key != "department" || g1.Apps[0].AppVersion != "1.2" || !strings.HasPrefix(g1.OfficeSiteID, "cn-shanghai+") {
		t.Errorf("what the series are made of changed: %+v", g1)
	}
	if v := g1.Tags[0].Value; v != g1.ResourceTags[0].Value || v != g2.Tags[0].Value {
		t.Errorf("one tag value replaced three ways: %q %q %q", v, g1.ResourceTags[0].Value, g2.Tags[0].Value)
	}
	instances := acc.AppInstances[g1.ID]
	if len(instances) != 1 {
		t.Fatalf("app instances by group %v, want one under %s", acc.AppInstances, g1.ID)
	}
	var in struct {
		GroupID string `json:"AppInstanceGroupId"`
	}
	_ = json.Unmarshal(instances[0], &in)
	if in.GroupID != g1.ID {
		t.Errorf("the app instance's group %q, its group's %q", in.GroupID, g1.ID)
	}
}

// A snapshot that would carry a credential is not made.
func TestBuildRefusesCredentials(t *testing.T) {
	var r Recorder
	r.Record("", "ListAppInstanceGroup", []byte(strings.Replace(groupsPage, `"Amount":3`, `"Note":"s3cr3t-value-9x","Amount":3`, 1)))
	if _, err := r.Build([]string{""}, time.Now(), "test", []string{"s3cr3t-value-9x"}); err == nil || !strings.Contains(err.Error(), "credential") {
		t.Errorf("err %v, want a refusal", err)
	}
}

// Written and read back, whole; several accounts are named account-N.
func TestWriteRead(t *testing.T) {
	var r Recorder
	r.Record("cn-prod", "ListAppInstanceGroup", []byte(groupsPage))
	r.Record("intl", "ListAppInstanceGroup", []byte(groupsPage))
	f, err := r.Build([]string{"cn-prod", "intl"}, time.Now(), "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "snap.json")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	back, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Accounts) != 2 || back.Accounts[0].Name != "account-1" || back.Accounts[1].Name != "account-2" || len(back.Accounts[1].AppInstanceGroupModels) != 2 {
		t.Errorf("read back: %+v", back.Accounts)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file reads")
	}
	// One named account (accounts: with one entry) reads; of several, an
	// unnamed one does not.
	one := &File{Accounts: []Account{{Name: "account-1"}}}
	if err := Write(path, one); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err != nil {
		t.Errorf("a snapshot of one named account: %v", err)
	}
	if err := Write(path, &File{Accounts: []Account{{Name: "account-1"}, {}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "account 2 has no Name") {
		t.Errorf("several accounts, one unnamed: %v", err)
	}
}
