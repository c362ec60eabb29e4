package maltego

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// runOpt is runT with options.
func runOpt(t *testing.T, name string, a Args, opt Options) *Message {
	t.Helper()
	var out, log bytes.Buffer
	if code := Run(name, a, opt, &out, &log); code != 0 {
		t.Fatalf("%s: exit %d, log %s", name, code, log.String())
	}
	return parseXML(t, out.Bytes())
}

// wiresharkManuf is the vendor list tshark itself reads.
func wiresharkManuf(t *testing.T) string {
	for _, line := range tshark(t, "-G", "folders") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == "Global configuration" {
			p := filepath.Join(strings.TrimSpace(v), "manuf")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Skip("tshark's manuf file not found")
	return ""
}

// toDevices gives each source MAC the vendor tshark resolves for it
// (eth.src.oui_resolved, from the same manuf file) and the host names of
// its DHCP messages (dhcp.option.hostname by dhcp.hw.mac_addr).
func TestDevicesVendorAndHostname(t *testing.T) {
	pcap, dir := recordsOf(t, dhcpPCAP)
	manuf := wiresharkManuf(t)
	m := runOpt(t, "toDevices", Args{Value: "x", Props: map[string]string{"path": dir}}, Options{OUIFile: manuf})
	got := checkAnswer(t, m, "netcap.Device")
	if len(m.Response.UIMessages) != 0 {
		t.Errorf("messages: %+v", m.Response.UIMessages)
	}

	wantVendor := map[string]string{}
	frames := map[string]int64{}
	for _, line := range tshark(t, "-r", pcap, "-Y", "eth", "-T", "fields", "-e", "eth.src", "-e", "eth.src.oui_resolved") {
		mac, vendor, _ := strings.Cut(line, "\t")
		wantVendor[mac] = vendor
		frames[mac]++
	}
	if len(got) != len(wantVendor) || len(got) < 3 {
		t.Errorf("%d devices, tshark sees %d source MACs", len(got), len(wantVendor))
	}
	named := 0
	for mac, vendor := range wantVendor {
		e := got[mac]
		if e == nil {
			t.Errorf("%s (%s) is missing", mac, vendor)
			continue
		}
		if e.Weight != frames[mac] {
			t.Errorf("%s: %d frames, tshark counts %d", mac, e.Weight, frames[mac])
		}
		if vendor == "IEEE Registration Authority" {
			// tshark names the 24-bit block; the longer MA-M/MA-S
			// prefix names the vendor.
			continue
		}
		if e.Field("vendor") != vendor {
			t.Errorf("%s: vendor %q, tshark %q", mac, e.Field("vendor"), vendor)
		}
		if vendor != "" {
			named++
		}
	}
	if named < 3 {
		t.Errorf("only %d vendors compared", named)
	}

	names := map[string]map[string]bool{}
	for _, line := range tshark(t, "-r", pcap, "-Y", "dhcp.option.hostname", "-T", "fields", "-e", "dhcp.hw.mac_addr", "-e", "dhcp.option.hostname") {
		macs, host, _ := strings.Cut(line, "\t")
		mac, _, _ := strings.Cut(macs, ",") // the chaddr, then option 61's
		if names[mac] == nil {
			names[mac] = map[string]bool{}
		}
		names[mac][host] = true
	}
	if len(names) == 0 {
		t.Fatal("tshark finds no DHCP host name in the capture")
	}
	for mac, e := range got {
		var want []string
		for h := range names[mac] {
			want = append(want, h)
		}
		sort.Strings(want)
		if h := e.Field("hostname"); h != strings.Join(want, ", ") {
			t.Errorf("%s: hostname %q, tshark %q", mac, h, want)
		}
	}
	for mac := range names {
		if got[mac] == nil {
			t.Errorf("DHCP client %s is not a device", mac)
		}
	}

	// The cap: one device, the busiest, and a message for the others.
	capped := runOpt(t, "toDevices", Args{Props: map[string]string{"path": dir}}, Options{Limit: 1, OUIFile: manuf})
	if len(capped.Response.Entities) != 1 || capped.Response.Entities[0].Value != m.Response.Entities[0].Value {
		t.Errorf("limit 1: %+v", capped.Response.Entities)
	}
	if want := "left out"; !hasUIText(capped, Inform, want) {
		t.Errorf("limit 1: no Inform message saying %q", want)
	}
}

// Without a vendor list the devices come back with an empty vendor and a
// PartialError message says why.
func TestDevicesWithoutVendorList(t *testing.T) {
	_, dir := recordsOf(t, dhcpPCAP)
	a := Args{Props: map[string]string{"path": dir}}
	check := func(m *Message, why string) {
		t.Helper()
		got := checkAnswer(t, m, "netcap.Device")
		if len(got) < 3 {
			t.Errorf("%d devices", len(got))
		}
		for mac, e := range got {
			if v := e.Field("vendor"); v != "" {
				t.Errorf("%s: vendor %q without a list", mac, v)
			}
		}
		if !hasUIText(m, PartialError, why) {
			t.Errorf("no PartialError saying %q: %+v", why, m.Response.UIMessages)
		}
	}
	check(runOpt(t, "toDevices", a, Options{OUIFile: filepath.Join(t.TempDir(), "no-such-list")}), "vendor list unreadable")

	t.Setenv(OUIEnv, "")
	saved := DefaultOUIFiles
	DefaultOUIFiles = []string{filepath.Join(t.TempDir(), "manuf")}
	defer func() { DefaultOUIFiles = saved }()
	check(runOpt(t, "toDevices", a, Options{}), "no vendor list")

	// The environment names the list when the option does not.
	list := filepath.Join(t.TempDir(), "oui.csv")
	os.WriteFile(list, []byte("Registry,Assignment,Organization Name,Organization Address\nMA-L,685D43,\"Intel, Test\",Somewhere\n"), 0o644)
	t.Setenv(OUIEnv, list)
	m := runOpt(t, "toDevices", a, Options{})
	if v := checkAnswer(t, m, "netcap.Device")["68:5d:43:8b:f9:de"].Field("vendor"); v != "Intel, Test" {
		t.Errorf("vendor from $%s: %q", OUIEnv, v)
	}
}

// Vendors takes the longest matching prefix, in both list formats.
func TestVendors(t *testing.T) {
	dir := t.TempDir()
	manuf := filepath.Join(dir, "manuf")
	os.WriteFile(manuf, []byte(`# comment
00:00:0C	Cisco	Cisco Systems, Inc
00:1B:C5	IEEERegi	IEEE Registration Authority
00:1B:C5:00:00:00/36	Convergi	Converging Systems Inc.
00:1B:C5:00:10:00/36	OpenRBco	OpenRB.com, Direct SIA
00:10:A4	XircomRe	Xircom	# RealPort 10/100 PC Card
00-20-30	ShortOnly
`), 0o644)
	csv := filepath.Join(dir, "oui.csv")
	os.WriteFile(csv, []byte(`Registry,Assignment,Organization Name,Organization Address
MA-L,00000C,"Cisco Systems, Inc",170 WEST TASMAN DRIVE San Jose CA US 95134
MA-L,001BC5,IEEE Registration Authority,
MA-S,001BC5001,"OpenRB.com, Direct SIA","Riga"
MA-M,70B3D51,Half Byte Ltd,
`), 0o644)
	macs := []string{"00:00:0c:12:34:56", "00:1b:c5:00:10:99", "00:1b:c5:00:00:01", "00:1b:c5:99:99:99", "00:10:a4:00:00:01", "00:20:30:00:00:01", "70:b3:d5:1f:00:00", "70:b3:d5:2f:00:00", "aa:bb:cc:dd:ee:ff", "not a mac"}
	for file, want := range map[string]map[string]string{
		manuf: {
			"00:00:0c:12:34:56": "Cisco Systems, Inc",
			"00:1b:c5:00:10:99": "OpenRB.com, Direct SIA",
			"00:1b:c5:00:00:01": "Converging Systems Inc.",
			"00:1b:c5:99:99:99": "IEEE Registration Authority",
			"00:10:a4:00:00:01": "Xircom",
			"00:20:30:00:00:01": "ShortOnly",
		},
		csv: {
			"00:00:0c:12:34:56": "Cisco Systems, Inc",
			"00:1b:c5:00:10:99": "OpenRB.com, Direct SIA",
			"00:1b:c5:00:00:01": "IEEE Registration Authority",
			"00:1b:c5:99:99:99": "IEEE Registration Authority",
			"70:b3:d5:1f:00:00": "Half Byte Ltd",
		},
	} {
		got, err := Vendors(file, macs)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", filepath.Base(file), got, want)
		}
		for mac, v := range want {
			if got[mac] != v {
				t.Errorf("%s: %s is %q, want %q", filepath.Base(file), mac, got[mac], v)
			}
		}
	}
}
