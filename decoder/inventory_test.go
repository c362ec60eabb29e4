package decoder

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

func inventoryOf(t *testing.T, recs []proto.Message, max int) ([]proto.Message, *Inventory) {
	t.Helper()
	inv := NewInventory(func(types.Type) bool { return true })
	if max > 0 {
		inv.max = max
	}
	for _, m := range recs {
		inv.Observe(m)
	}
	var out []proto.Message
	inv.Records(func(_ types.Type, m proto.Message) { out = append(out, proto.Clone(m)) })
	return out, inv
}

// inventoryInput is what a few workers would report: HTTP exchanges of two
// clients, an SSH connection, and the Connection records.
func inventoryInput() []proto.Message {
	var recs []proto.Message
	for i := range 40 {
		client := fmt.Sprintf("10.0.0.%d", 1+i%2)
		ua := "curl/8.0.1"
		if i%2 == 1 {
			ua = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
		}
		flow := fmt.Sprintf("flow-%02d", i)
		recs = append(recs,
			&types.HTTP{Timestamp: int64(1000 + i), FrameNumber: int64(10 + i), FlowID: flow, SrcIP: client, DstIP: "10.0.0.9",
				DstPort: 80, UserAgent: ua, ServerName: "nginx/1.25.3 (Debian)"},
			&types.Connection{TimestampFirst: int64(1000 + i), TimestampLast: int64(2000 + i), FrameFirst: int64(10 + i),
				TransportProto: "TCP", ApplicationProto: "HTTP", SrcIP: client, DstIP: "10.0.0.9", DstPort: 80,
				BytesClientToServer: 100, BytesServerToClient: 1000, UID: flow})
	}
	recs = append(recs,
		&types.SSH{Timestamp: 5, FrameNumber: 3, FlowID: "ssh-1", SrcIP: "10.0.0.9", SrcPort: 22, Ident: "SSH-2.0-OpenSSH_9.2p1",
			Software: "OpenSSH", Version: "9.2p1"},
		&types.SSH{Timestamp: 4, FrameNumber: 2, FlowID: "ssh-1", SrcIP: "10.0.0.1", Ident: "SSH-2.0-OpenSSH_9.6", Software: "OpenSSH",
			Version: "9.6", IsClient: true},
		&types.Connection{TimestampFirst: 1, TimestampLast: 9, FrameFirst: 1, TransportProto: "TCP", ApplicationProto: "SSH",
			SrcIP: "10.0.0.1", DstIP: "10.0.0.9", DstPort: 22, UID: "ssh-1"},
		&types.FTP{DstIP: "10.0.0.9", DstPort: 21, Greeting: "(vsFTPd 3.0.3)"},
		&types.Connection{TimestampFirst: 3000, TimestampLast: 3001, FrameFirst: 300, TransportProto: "TCP", ApplicationProto: "FTP",
			SrcIP: "10.0.0.2", DstIP: "10.0.0.9", DstPort: 21, UID: "ftp-1"})
	return recs
}

// TestInventory: what it records, and that the order in which workers
// report does not change a byte of it.
func TestInventory(t *testing.T) {
	recs := inventoryInput()
	want, _ := inventoryOf(t, recs, 0)
	var sw []*types.Software
	var svc []*types.Service
	for _, m := range want {
		switch r := m.(type) {
		case *types.Software:
			sw = append(sw, r)
		case *types.Service:
			svc = append(svc, r)
		}
	}
	// curl, Firefox, nginx, two OpenSSH, vsftpd (from the FTP greeting).
	if len(sw) != 6 || len(svc) != 3 {
		t.Fatalf("%d Software, %d Service records:\n%v", len(sw), len(svc), want)
	}
	byProduct := map[string]*types.Software{}
	for _, r := range sw {
		byProduct[r.Product+" "+r.Version+" "+r.Role] = r
	}
	curl, firefox, nginx := byProduct["curl 8.0.1 client"], byProduct["Firefox 121.0 client"], byProduct["nginx 1.25.3 server"]
	if curl == nil || firefox == nil || nginx == nil || byProduct["OpenSSH 9.2p1 server"] == nil || byProduct["OpenSSH 9.6 client"] == nil {
		t.Fatalf("software: %v", byProduct)
	}
	if curl.Count != 20 || curl.FrameNumber != 10 || curl.TimestampLast != 1038 || len(curl.FlowIDs) != 16 || curl.FlowIDs[0] != "flow-00" ||
		curl.Host != "10.0.0.1" || curl.Source != "HTTP User-Agent" {
		t.Errorf("curl: %v", curl)
	}
	if firefox.OS != "Linux x86_64" || nginx.Count != 40 || nginx.Host != "10.0.0.9" {
		t.Errorf("firefox %v, nginx %v", firefox, nginx)
	}
	ssh, web, ftp := svc[0], svc[1], svc[2]
	if v := byProduct["vsftpd 3.0.3 server"]; v == nil || v.Source != "FTP greeting" || v.Host != "10.0.0.9" || v.Raw != "(vsFTPd 3.0.3)" {
		t.Errorf("vsftpd: %v", v)
	}
	if ftp.Banner != "(vsFTPd 3.0.3)" || ftp.Protocol != "FTP" || ftp.Port != 21 || ftp.Product != "vsftpd" || ftp.Version != "3.0.3" {
		t.Errorf("FTP service: %v", ftp)
	}
	if ssh.Port != 22 || ssh.Protocol != "SSH" || ssh.Banner != "SSH-2.0-OpenSSH_9.2p1" || ssh.Product != "OpenSSH" || ssh.Connections != 1 {
		t.Errorf("SSH service: %v", ssh)
	}
	if web.Port != 80 || web.Connections != 40 || web.BytesServer != 40000 || web.BytesClient != 4000 || len(web.Clients) != 2 ||
		web.MoreClients || web.Product != "nginx" || web.Timestamp != 1000 || web.TimestampLast != 2039 {
		t.Errorf("web service: %v", web)
	}
	// Any order of reports gives the same records.
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := append([]proto.Message(nil), recs...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, _ := inventoryOf(t, shuffled, 0)
		if len(got) != len(want) {
			t.Fatalf("%d records after a shuffle, %d before", len(got), len(want))
		}
		for i := range got {
			if !proto.Equal(got[i], want[i]) {
				t.Fatalf("record %d differs after a shuffle:\n%v\n%v", i, got[i], want[i])
			}
		}
	}
}

// TestInventoryBounds: a flood of invented software and clients stays at
// the bounds, and what is left out is counted.
func TestInventoryBounds(t *testing.T) {
	var recs []proto.Message
	for i := range 500 {
		ip := fmt.Sprintf("10.1.%d.%d", i/256, i%256)
		recs = append(recs,
			&types.HTTP{FrameNumber: int64(i + 1), SrcIP: ip, DstIP: "10.0.0.9", UserAgent: fmt.Sprintf("bot%d/1.0", i)},
			&types.Connection{FrameFirst: int64(i + 1), TransportProto: "TCP", ApplicationProto: "HTTP", SrcIP: ip,
				DstIP: "10.0.0.9", DstPort: 80})
	}
	out, inv := inventoryOf(t, recs, 100)
	sw, svc := 0, 0
	for _, m := range out {
		switch r := m.(type) {
		case *types.Software:
			sw++
		case *types.Service:
			svc++
			if len(r.Clients) != inventoryClients || !r.MoreClients {
				t.Errorf("%d clients listed, MoreClients %v", len(r.Clients), r.MoreClients)
			}
		}
	}
	if sw != 100 || svc != 1 || inv.Dropped != 400 {
		t.Errorf("%d Software, %d Service, %d dropped; want 100, 1, 400", sw, svc, inv.Dropped)
	}
}

// TestInventoryAgentCache: a flood of distinct User-Agents keeps at most
// agentCacheMax parsed ones.
func TestInventoryAgentCache(t *testing.T) {
	inv := NewInventory(func(types.Type) bool { return true })
	for i := range 3 * agentCacheMax {
		inv.Observe(&types.HTTP{FrameNumber: int64(i), SrcIP: "10.0.0.1", UserAgent: fmt.Sprintf("bot%d/1.0", i)})
		if n := len(inv.agents); n > agentCacheMax {
			t.Fatalf("%d parsed User-Agents kept", n)
		}
	}
}
