// Package snapshot records what the API answered to one refresh of every
// query, with the identifiers a user may want to hide replaced
// consistently, as a file the simulator serves (--snapshot.dump, then
// --demo --demo.data). A snapshot reproduces a fleet's series without
// showing whose fleet it is.
package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// File is a snapshot as written.
type File struct {
	Snapshot Meta      `json:"Snapshot"`
	Accounts []Account `json:"Accounts"`
}

// Meta says what a snapshot is.
type Meta struct {
	Taken    time.Time `json:"Taken"`
	Exporter string    `json:"Exporter"` // the version that wrote it
	// Hidden are the answer fields whose values were replaced.
	Hidden []string `json:"Hidden"`
}

// Account is one account's answers: its groups as ListAppInstanceGroup
// returned them and, with app_instances, each group's app instances.
// Name is "" in the single-account form, account-1, account-2, ...
// otherwise.
type Account struct {
	Name string `json:"Name"`
	simulator.Dataset
}

// Recorder keeps the answers of a refresh, by account, as they arrive.
type Recorder struct {
	mu      sync.Mutex
	answers map[string][]answer // by account
}

type answer struct {
	action string
	body   []byte
}

// Record is exporter.Options.Record.
func (r *Recorder) Record(account, action string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.answers == nil {
		r.answers = map[string][]answer{}
	}
	r.answers[account] = append(r.answers[account], answer{action, bytes.Clone(body)})
}

// Build makes the snapshot of the recorded answers of accounts (in the
// configuration's order). secrets are the credentials in force: the
// answers never carry them, and a snapshot that would is refused.
func (r *Recorder) Build(accounts []string, taken time.Time, version string, secrets []string) (*File, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := &File{Snapshot: Meta{Taken: taken.UTC(), Exporter: version, Hidden: HiddenFields()}}
	an := newAnonymizer()
	for i, name := range accounts {
		acc := Account{Dataset: simulator.Dataset{AppInstances: map[string][]json.RawMessage{}}}
		if name != "" {
			acc.Name = fmt.Sprintf("account-%d", i+1)
		}
		seenGroups, seenInstances := map[string]bool{}, map[string]bool{}
		for _, a := range r.answers[name] {
			var page map[string]any
			dec := json.NewDecoder(bytes.NewReader(a.body))
			dec.UseNumber() // numbers as the API wrote them
			if err := dec.Decode(&page); err != nil {
				return nil, fmt.Errorf("an answer of %s: %w", a.action, err)
			}
			for _, field := range []string{"AppInstanceGroupModels", "AppInstanceModels"} {
				items, _ := page[field].([]any)
				for _, item := range items {
					obj, ok := item.(map[string]any)
					if !ok {
						continue
					}
					groupID, _ := obj["AppInstanceGroupId"].(string)
					instanceID, _ := obj["AppInstanceId"].(string)
					hidden, err := json.Marshal(an.walk(obj))
					if err != nil {
						return nil, err
					}
					switch field {
					case "AppInstanceGroupModels":
						// A group answered by two queries is one group.
						if groupID != "" && seenGroups[groupID] {
							continue
						}
						seenGroups[groupID] = true
						acc.AppInstanceGroupModels = append(acc.AppInstanceGroupModels, hidden)
					default:
						if instanceID != "" && seenInstances[instanceID] {
							continue
						}
						seenInstances[instanceID] = true
						key := an.id(groupID)
						acc.AppInstances[key] = append(acc.AppInstances[key], hidden)
					}
				}
			}
		}
		f.Accounts = append(f.Accounts, acc)
	}
	text, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	for _, s := range secrets {
		if len(s) >= 4 && bytes.Contains(text, []byte(s)) {
			return nil, errors.New("refusing to write the snapshot: an answer contains a credential of the configuration")
		}
	}
	return f, nil
}

// CheckTarget tells, before a refresh is spent on it, whether a snapshot
// can be written to path: a file in a directory that takes new files.
func CheckTarget(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("--snapshot.dump %s: is a directory; name a file", path)
	}
	probe, err := os.CreateTemp(filepath.Dir(path), ".snapshot-*")
	if err != nil {
		return fmt.Errorf("--snapshot.dump %s: cannot write there: %w", path, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// Write writes f to path: whole or not at all.
func Write(path string, f *File) error {
	text, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".snapshot-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(text, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Read reads a snapshot file.
func Read(path string) (*File, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(text, &f); err != nil {
		return nil, fmt.Errorf("%s: not a snapshot written by --snapshot.dump: %w", path, err)
	}
	if len(f.Accounts) == 0 {
		return nil, fmt.Errorf("%s: the snapshot has no accounts", path)
	}
	for i, a := range f.Accounts {
		if a.Name == "" && len(f.Accounts) > 1 {
			return nil, fmt.Errorf("%s: account %d has no Name: of several accounts, each is named (account-1, account-2, ...)", path, i+1)
		}
	}
	return &f, nil
}
