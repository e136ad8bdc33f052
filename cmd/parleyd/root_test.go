package main

import (
	"bytes"
	"strings"
	"testing"
	"text/template"

	"github.com/parleynet/parley/app"
)

// app.toml, as parleyd init writes it, sets Parley's memory bounds and
// says what they bound.
func TestAppConfigMemoryDefaults(t *testing.T) {
	tmpl, cfg := appConfigDefaults()
	if strings.Contains(tmpl, iavlCacheComment) || !strings.Contains(tmpl, "EACH store") {
		t.Fatal("the iavl-cache-size comment was not replaced: has the SDK's template changed?")
	}
	var out bytes.Buffer
	if err := template.Must(template.New("app.toml").Parse(tmpl)).Execute(&out, cfg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\niavl-cache-size = 10000\n",
		"\npruning = \"default\"\n",
		"\napp-db-backend = \"pebbledb\"\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("app.toml lacks %q", strings.TrimSpace(want))
		}
	}
	if app.DefaultIAVLCacheSize != 10000 {
		t.Errorf("update this test and the docs with DefaultIAVLCacheSize %d", app.DefaultIAVLCacheSize)
	}
}
