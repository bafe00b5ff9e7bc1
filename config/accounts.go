package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Account is one entry of accounts: an Alibaba Cloud account or site
// served beside the others, its series labelled account="<name>". It
// takes the top level's keys; those it leaves out keep the top level's
// values. The fields list the keys an account may set (the strict key
// check reads them); Parse reads the entry over the top level's values.
type Account struct {
	Name               string       `yaml:"name"`
	Endpoint           string       `yaml:"endpoint"`
	RegionID           string       `yaml:"region_id"`
	Credentials        *Credentials `yaml:"credentials"`
	BizRegions         []string     `yaml:"biz_regions"`
	ProductType        string       `yaml:"product_type"`
	Filters            Filters      `yaml:"filters"`
	TagLabels          []TagLabel   `yaml:"tag_labels"`
	TagLabelsOn        string       `yaml:"tag_labels_on"`
	CacheTTL           Duration     `yaml:"cache_ttl"`
	MaxStale           Duration     `yaml:"max_stale"`
	RefreshTimeout     Duration     `yaml:"refresh_timeout"`
	PageSize           int          `yaml:"page_size"`
	MaxConcurrentPages int          `yaml:"max_concurrent_pages"`
	Timezone           string       `yaml:"timezone"`
	AppInstances       AppInstances `yaml:"app_instances"`

	node *yaml.Node // the entry, read over the top level's values
}

// UnmarshalYAML keeps the entry for Parse, which reads it over a copy of
// the top level.
func (a *Account) UnmarshalYAML(n *yaml.Node) error {
	a.node = n
	var name struct {
		Name string `yaml:"name"`
	}
	if err := n.Decode(&name); err != nil {
		return err
	}
	a.Name = name.Name
	return nil
}

// accountNameRE is what a label value written in alert routes and
// dashboard links without quoting can hold.
var accountNameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// perAccountOnly are the top-level keys that accounts replace: with
// accounts, each account names its own.
var perAccountOnly = []string{"endpoint", "region_id", "credentials", "biz_regions", "filters"}

// parseAccounts makes each account's configuration: the top level (root,
// read again into defaults, so nothing is shared) with the entry over it.
// Problems name the entry's keys (accounts[1].endpoint) and lines.
func (c *Config) parseAccounts(root *yaml.Node, baseDir string, lines map[string]int) error {
	var errs []error
	for _, k := range perAccountOnly {
		if line, ok := lines[k]; ok {
			errs = append(errs, &FieldError{Path: k, Line: line,
				Msg: fmt.Sprintf("with accounts, each account sets its own %s; move it into the accounts that use it, or remove accounts to keep the single-account form", k)})
		}
	}
	seen := map[string]int{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		path := fmt.Sprintf("accounts[%d]", i)
		name := path + ".name"
		switch {
		case a.Name == "":
			errs = append(errs, &FieldError{Path: name, Msg: "required: a short name such as cn-prod, which becomes the label account=\"<name>\""})
		case !accountNameRE.MatchString(a.Name):
			errs = append(errs, &FieldError{Path: name, Msg: fmt.Sprintf("%q: use lower-case letters, digits, - and _ only", a.Name)})
		case seen[a.Name] > 0:
			errs = append(errs, &FieldError{Path: name, Msg: fmt.Sprintf("%q is also the name of accounts[%d]; names must differ", a.Name, seen[a.Name]-1)})
		}
		seen[a.Name] = i + 1

		ac := DefaultConfig()
		if err := root.Decode(ac); err != nil {
			return cleanDecodeError(err, lines)
		}
		ac.Accounts, ac.MaxConcurrentRequests = nil, 0
		ac.Endpoint, ac.RegionID, ac.Credentials, ac.BizRegions, ac.Filters = DefaultEndpoint, DefaultRegionID, nil, nil, Filters{}
		if err := a.node.Decode(ac); err != nil {
			return cleanDecodeError(err, lines)
		}
		ac.account, ac.fromAccount, ac.prefix, ac.lines = a.Name, true, path+".", lines
		ac.resolvePaths(baseDir)
		if err := ac.Validate(); err != nil {
			for _, e := range flattenErrors(err) {
				errs = append(errs, prefixed(path, e))
			}
		}
		c.accounts = append(c.accounts, ac)
	}
	return errors.Join(errs...)
}

// prefixed puts an account's path in front of a problem's key.
func prefixed(path string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Path: path + "." + fe.Path, Msg: fe.Msg}
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Accounts lists the configuration of each account the exporter serves:
// with accounts, one per entry, in order; without, this one.
func (c *Config) AccountConfigs() []*Config {
	if len(c.accounts) == 0 {
		return []*Config{c}
	}
	return c.accounts
}

// Account is the account's name, the value of its account label; "" in
// the single-account form, whose series carry no account label.
func (c *Config) Account() string { return c.account }

// accountsSummary is Summary's text for several accounts.
func (c *Config) accountsSummary() string {
	parts := make([]string, 0, len(c.accounts))
	for _, ac := range c.accounts {
		parts = append(parts, ac.account+" ("+ac.targetSummary()+")")
	}
	noun := "accounts"
	if len(c.accounts) == 1 {
		noun = "account"
	}
	return fmt.Sprintf("%d %s: %s; at most %d API requests at once", len(c.accounts), noun, strings.Join(parts, "; "), c.MaxConcurrentRequests)
}

// Redirect points each account at another endpoint (--demo sends every
// account to a simulator, whatever the file says): point is called with
// the account's index (0 in the single-account form) and its settings,
// and the result is validated again.
func (c *Config) Redirect(point func(i int, c *Config)) error {
	point(0, c)
	if err := c.Validate(); err != nil {
		return err
	}
	for i, ac := range c.accounts {
		point(i, ac)
		if err := ac.Validate(); err != nil {
			return fmt.Errorf("accounts: %s: %w", ac.account, err)
		}
	}
	return nil
}
