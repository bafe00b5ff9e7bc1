package testkit

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyTestsImport: no package of the module imports testkit or
// testconfig outside its tests (go list's Imports leaves test files out).
func TestOnlyTestsImport(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`,
		"github.com/appstream-exporter/appstream_exporter/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const kit = "github.com/appstream-exporter/appstream_exporter/internal/testkit"
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
		for imp := range strings.FieldsSeq(imports) {
			if (imp == kit || strings.HasPrefix(imp, kit+"/")) && !strings.HasPrefix(pkg, kit) {
				t.Errorf("%s imports %s outside its tests", pkg, imp)
			}
		}
	}
}
