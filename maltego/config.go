package maltego

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// The .mtz is a zip in the layout Maltego's export (Import/Export Config)
// writes and its import reads:
//
//	version.properties                                   format version (Java properties)
//	EntityCategories/netcap.category
//	Entities/<type>.entity                               one per entity type
//	TransformRepositories/Local/netcap.<name>.transform  the transform
//	TransformRepositories/Local/netcap.<name>.transformsettings  command line
//	TransformSets/netcap.set                             all transforms
//	Servers/Local.tas                                    the local server listing them
//
// Transform names are "netcap." + the name net transform -list prints. Every
// transform names the set in its defaultSets as <Set name="NETCAP"/>.

// Prefix is the namespace of transform names in the configuration.
const Prefix = "netcap."

// SetName is the transform set all transforms belong to.
const SetName = "NETCAP"

// versionProperties is the version.properties of the .mtz: the client and
// format versions the configuration was written for.
const versionProperties = `#netcap transforms
maltego.client.version=4.2.12
maltego.client.subtitle=
maltego.pandora.version=1.4.2
maltego.client.name=Maltego
maltego.mtz.version=1.0
maltego.graph.version=1.2
`

type mtzEntity struct {
	XMLName     xml.Name `xml:"MaltegoEntity"`
	ID          string   `xml:"id,attr"`
	DisplayName string   `xml:"displayName,attr"`
	Plural      string   `xml:"displayNamePlural,attr"`
	Description string   `xml:"description,attr"`
	Category    string   `xml:"category,attr"`
	SmallIcon   string   `xml:"smallIconResource,attr"`
	LargeIcon   string   `xml:"largeIconResource,attr"`
	AllowedRoot bool     `xml:"allowedRoot,attr"`
	Order       int      `xml:"conversionOrder,attr"`
	Visible     bool     `xml:"visible,attr"`
	Properties  struct {
		Value   string     `xml:"value,attr"`
		Display string     `xml:"displayValue,attr"`
		Groups  struct{}   `xml:"Groups"`
		Fields  []mtzField `xml:"Fields>Field"`
	} `xml:"Properties"`
}

type mtzField struct {
	Name        string `xml:"name,attr"`
	Type        string `xml:"type,attr"`
	Nullable    bool   `xml:"nullable,attr"`
	Hidden      bool   `xml:"hidden,attr"`
	Readonly    bool   `xml:"readonly,attr"`
	Description string `xml:"description,attr"`
	DisplayName string `xml:"displayName,attr"`
	Sample      string `xml:"SampleValue"`
}

type mtzTransform struct {
	XMLName     xml.Name  `xml:"MaltegoTransform"`
	Name        string    `xml:"name,attr"`
	DisplayName string    `xml:"displayName,attr"`
	Abstract    bool      `xml:"abstract,attr"`
	Template    bool      `xml:"template,attr"`
	Visibility  string    `xml:"visibility,attr"`
	Description string    `xml:"description,attr"`
	Author      string    `xml:"author,attr"`
	RequireInfo bool      `xml:"requireDisplayInfo,attr"`
	Adapter     string    `xml:"TransformAdapter"`
	Properties  []mtzProp `xml:"Properties>Fields>Property"`
	Input       struct {
		Entity struct {
			Type string `xml:"type,attr"`
			Min  int    `xml:"min,attr"`
			Max  int    `xml:"max,attr"`
		} `xml:"Entity"`
	} `xml:"InputConstraints"`
	Output       struct{}    `xml:"OutputEntities"`
	DefaultSets  []mtzSetRef `xml:"defaultSets>Set"`
	StealthLevel int         `xml:"StealthLevel"`
}

// mtzSetRef names a transform set, as <Set name="NETCAP"/>.
type mtzSetRef struct {
	Name string `xml:"name,attr"`
}

type mtzProp struct {
	Name        string `xml:"name,attr"`
	Type        string `xml:"type,attr"`
	Nullable    bool   `xml:"nullable,attr"`
	Hidden      bool   `xml:"hidden,attr"`
	Readonly    bool   `xml:"readonly,attr"`
	Description string `xml:"description,attr"`
	Popup       bool   `xml:"popup,attr"`
	Abstract    bool   `xml:"abstract,attr"`
	Visibility  string `xml:"visibility,attr"`
	Auth        bool   `xml:"auth,attr"`
	DisplayName string `xml:"displayName,attr"`
	Sample      string `xml:"SampleValue"`
}

type mtzSettings struct {
	XMLName    xml.Name `xml:"TransformSettings"`
	Enabled    bool     `xml:"enabled,attr"`
	Disclaimer bool     `xml:"disclaimerAccepted,attr"`
	ShowHelp   bool     `xml:"showHelp,attr"`
	RunWithAll bool     `xml:"runWithAll,attr"`
	Favorite   bool     `xml:"favorite,attr"`
	Properties []struct {
		Name  string `xml:"name,attr"`
		Type  string `xml:"type,attr"`
		Popup bool   `xml:"popup,attr"`
		Value string `xml:",chardata"`
	} `xml:"Properties>Property"`
}

type mtzSet struct {
	XMLName     xml.Name `xml:"TransformSet"`
	Name        string   `xml:"name,attr"`
	Description string   `xml:"description,attr"`
	Transforms  []struct {
		Name string `xml:"name,attr"`
	} `xml:"Transforms>Transform"`
}

type mtzServer struct {
	XMLName     xml.Name `xml:"MaltegoServer"`
	Name        string   `xml:"name,attr"`
	Enabled     bool     `xml:"enabled,attr"`
	Description string   `xml:"description,attr"`
	URL         string   `xml:"url,attr"`
	LastSync    string   `xml:"LastSync"`
	Protocol    struct {
		Version string `xml:"version,attr"`
	} `xml:"Protocol"`
	Auth struct {
		Type string `xml:"type,attr"`
	} `xml:"Authentication"`
	Transforms []struct {
		Name string `xml:"name,attr"`
	} `xml:"Transforms>Transform"`
	Seeds struct{} `xml:"Seeds"`
}

// EntityTypes are the entity types the transforms use, including one
// AuditRecords type per record type a transform reads.
func EntityTypes() []string {
	seen := map[string]bool{"netcap.AuditRecords": false}
	for _, t := range Transforms {
		for _, e := range []string{t.Input, t.Output} {
			if !strings.Contains(e, "<") {
				seen[e] = true
			}
		}
		for _, r := range t.Reads {
			seen[AuditRecords(r)] = true
		}
	}
	var out []string
	for e, ok := range seen {
		if ok {
			out = append(out, e)
		}
	}
	sort.Strings(out)
	return out
}

// WriteConfigFile writes the .mtz to path; the transforms run bin.
func WriteConfigFile(path, bin string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteConfig(f, bin); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteConfig writes the .mtz zip to w.
func WriteConfig(w io.Writer, bin string) error {
	z := zip.NewWriter(w)
	if fw, err := z.Create("version.properties"); err != nil {
		return err
	} else if _, err := io.WriteString(fw, versionProperties); err != nil {
		return err
	}
	put := func(name string, v any) error {
		b, err := xml.MarshalIndent(v, "", " ")
		if err != nil {
			return err
		}
		fw, err := z.Create(name)
		if err != nil {
			return err
		}
		_, err = fw.Write(append([]byte(xml.Header), b...))
		return err
	}
	type category struct {
		XMLName xml.Name `xml:"EntityCategory"`
		Name    string   `xml:"name,attr"`
	}
	if err := put("EntityCategories/netcap.category", category{Name: "Netcap"}); err != nil {
		return err
	}
	for _, id := range EntityTypes() {
		e := mtzEntity{ID: id, DisplayName: strings.TrimPrefix(id, "netcap."), Plural: strings.TrimPrefix(id, "netcap.") + "s",
			Category: "Netcap", SmallIcon: "Unknown", LargeIcon: "Unknown", AllowedRoot: true, Order: 2147483647, Visible: true,
			Description: "netcap " + strings.TrimPrefix(id, "netcap.")}
		e.Properties.Value = "properties.value"
		e.Properties.Display = "properties.value"
		e.Properties.Fields = []mtzField{
			{Name: "properties.value", Type: "string", Description: "value", DisplayName: "Value"},
			{Name: "path", Type: "string", Nullable: true, Description: "record folder or capture file", DisplayName: "Path"},
			{Name: "ip", Type: "string", Nullable: true, Description: "host filter", DisplayName: "IP address"},
			{Name: "count", Type: "int", Nullable: true, Readonly: true, Description: "records", DisplayName: "Records"},
		}
		if err := put("Entities/"+id+".entity", e); err != nil {
			return err
		}
	}
	set := mtzSet{Name: SetName, Description: "netcap transforms over audit records"}
	srv := mtzServer{Name: "Local", Enabled: true, Description: "Local transforms hosted on this machine", URL: "http://localhost", LastSync: "2026-01-01 00:00:00.000 UTC"}
	srv.Protocol.Version = "0.0"
	srv.Auth.Type = "none"
	for _, t := range Transforms {
		name := Prefix + t.Name
		mt := mtzTransform{Name: name, DisplayName: t.Name, Visibility: "public", Description: t.About, Author: "netcap",
			Adapter: "com.paterva.maltego.transform.protocol.v2api.LocalTransformAdapterV2", DefaultSets: []mtzSetRef{{SetName}}}
		mt.Input.Entity.Type = t.Input
		if strings.Contains(t.Input, "<") {
			mt.Input.Entity.Type = "netcap.AuditRecords"
		}
		mt.Input.Entity.Min, mt.Input.Entity.Max = 1, 1
		for _, p := range []struct{ name, typ, display string }{
			{"transform.local.command", "string", "Command line"},
			{"transform.local.parameters", "string", "Command parameters"},
			{"transform.local.working-directory", "string", "Working directory"},
			{"transform.local.debug", "boolean", "Show debug info"},
		} {
			mt.Properties = append(mt.Properties, mtzProp{Name: p.name, Type: p.typ, Visibility: "public", DisplayName: p.display, Description: p.display})
		}
		if err := put("TransformRepositories/Local/"+name+".transform", mt); err != nil {
			return err
		}
		var s mtzSettings
		s.Enabled, s.ShowHelp, s.RunWithAll = true, true, true
		for _, kv := range [][3]string{
			{"transform.local.command", "string", bin},
			{"transform.local.parameters", "string", "transform " + t.Name},
			{"transform.local.working-directory", "string", "/"},
			{"transform.local.debug", "boolean", "false"},
		} {
			s.Properties = append(s.Properties, struct {
				Name  string `xml:"name,attr"`
				Type  string `xml:"type,attr"`
				Popup bool   `xml:"popup,attr"`
				Value string `xml:",chardata"`
			}{kv[0], kv[1], false, kv[2]})
		}
		if err := put("TransformRepositories/Local/"+name+".transformsettings", s); err != nil {
			return err
		}
		set.Transforms = append(set.Transforms, struct {
			Name string `xml:"name,attr"`
		}{name})
		srv.Transforms = append(srv.Transforms, struct {
			Name string `xml:"name,attr"`
		}{name})
	}
	if err := put("TransformSets/netcap.set", set); err != nil {
		return err
	}
	if err := put("Servers/Local.tas", srv); err != nil {
		return err
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	return nil
}

// ConfigTransformNames reads a .mtz, calls check with every XML file's name
// and contents, and returns the sorted transform names (without Prefix) of
// its .transform files. It fails when a file is outside Maltego's layout, when
// version.properties is missing, or when the transform settings, the
// transform set, the server or the entity files disagree with the transforms.
func ConfigTransformNames(mtz []byte, check func(name string, b []byte) error) ([]string, error) {
	z, err := zip.NewReader(bytes.NewReader(mtz), int64(len(mtz)))
	if err != nil {
		return nil, err
	}
	var (
		names    []string
		inputs   = map[string]string{} // transform -> input entity type
		sets     = map[string][]string{}
		settings = map[string]string{} // transform -> its command parameters
		entities = map[string]bool{}
		set      mtzSet
		srv      mtzServer
		version  bool
	)
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if f.Name == "version.properties" {
			version = bytes.Contains(b, []byte("\nmaltego.mtz.version="))
			continue
		}
		if err := check(f.Name, b); err != nil {
			return nil, err
		}
		dir, base := path.Split(f.Name)
		ext := path.Ext(base)
		stem := strings.TrimSuffix(base, ext)
		var v any
		switch dir + "*" + ext {
		case "TransformRepositories/Local/*.transform":
			v = &mtzTransform{}
		case "TransformRepositories/Local/*.transformsettings":
			v = &mtzSettings{}
		case "Entities/*.entity":
			v = &mtzEntity{}
		case "TransformSets/*.set":
			v = &set
		case "Servers/*.tas":
			v = &srv
		case "EntityCategories/*.category":
			v = new(struct {
				XMLName xml.Name `xml:"EntityCategory"`
			})
		default:
			return nil, fmt.Errorf("%s: not a file of Maltego's configuration layout", f.Name)
		}
		if err := xml.Unmarshal(b, v); err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		switch x := v.(type) {
		case *mtzTransform:
			if x.Name != stem {
				return nil, fmt.Errorf("%s: names transform %s", f.Name, x.Name)
			}
			name := strings.TrimPrefix(x.Name, Prefix)
			names = append(names, name)
			inputs[name] = x.Input.Entity.Type
			for _, s := range x.DefaultSets {
				sets[name] = append(sets[name], s.Name)
			}
		case *mtzSettings:
			for _, p := range x.Properties {
				if p.Name == "transform.local.parameters" {
					settings[strings.TrimPrefix(stem, Prefix)] = p.Value
				}
			}
		case *mtzEntity:
			if x.ID != stem {
				return nil, fmt.Errorf("%s: defines entity %s", f.Name, x.ID)
			}
			entities[x.ID] = true
		}
	}
	if !version {
		return nil, errors.New("no version.properties with maltego.mtz.version")
	}
	sort.Strings(names)
	for _, n := range names {
		if !entities[inputs[n]] {
			return nil, fmt.Errorf("%s: input entity %q has no entity file", n, inputs[n])
		}
		if want := "transform " + n; settings[n] != want {
			return nil, fmt.Errorf("%s: transformsettings parameters %q, want %q", n, settings[n], want)
		}
		if len(sets[n]) != 1 || sets[n][0] != set.Name {
			return nil, fmt.Errorf("%s: default sets %q, the set is %q", n, sets[n], set.Name)
		}
	}
	if len(settings) != len(names) {
		return nil, fmt.Errorf("%d transforms, %d transformsettings", len(names), len(settings))
	}
	listed := func(ts []struct {
		Name string `xml:"name,attr"`
	}) string {
		var out []string
		for _, t := range ts {
			out = append(out, strings.TrimPrefix(t.Name, Prefix))
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	all := strings.Join(names, " ")
	if got := listed(set.Transforms); got != all {
		return nil, fmt.Errorf("transform set %q lists %s, the transforms are %s", set.Name, got, all)
	}
	if got := listed(srv.Transforms); got != all {
		return nil, fmt.Errorf("server lists %s, the transforms are %s", got, all)
	}
	return names, nil
}
