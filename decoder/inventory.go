package decoder

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/mssola/useragent"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/types"
)

// The inventory sums up what the other records say about the machines on
// the network: the software they run (Software) and the services they
// offer (Service). It reads the records as the workers make them (HTTP,
// SSH, Connection), keyed coarser than a flow, so it is shared by the
// workers behind a lock taken once per such record, not per packet. The
// records are written at the end of the run, sorted, so they do not depend
// on the number of workers: every field is a minimum, a maximum, a sum or
// a set kept in a fixed order.

// InventoryRecords are the records the inventory makes, with what they are.
var InventoryRecords = map[types.Type]string{
	types.Type_NC_Software: "programs seen (HTTP User-Agent and Server, SSH lines) per host, role and version, written at the end",
	types.Type_NC_Service:  "servers seen (IP, port, transport) with a detected protocol, their banner, software and clients, written at the end",
}

// InventoryMax bounds the software and the services kept; beyond, new
// ones are counted in Dropped and not recorded.
const InventoryMax = 100_000

const (
	inventoryFlows   = 16 // FlowIDs kept per Software
	inventoryClients = 64 // clients kept per Service
)

// Inventory gathers Software and Service.
type Inventory struct {
	mu       sync.Mutex
	software map[swKey]*types.Software
	flows    map[swKey][]flowAt // the earliest FlowIDs of each Software
	services map[svcKey]*types.Service
	swOn     bool
	svcOn    bool
	max      int // InventoryMax; smaller in tests
	uaMu     sync.Mutex
	agents   map[string]parsedAgent // parsed User-Agents (agentCacheMax)
	// Dropped counts software and services not recorded because the
	// inventory was full.
	Dropped int64
}

type swKey struct{ host, product, version, role, source string }

// flowAt is a FlowID with the frame of the record that carried it.
type flowAt struct {
	frame int64
	id    string
}

type svcKey struct {
	ip        string
	port      int32
	transport string
}

// NewInventory returns an inventory for the selected records, or nil when
// neither Software nor Service is selected.
func NewInventory(enabled func(types.Type) bool) *Inventory {
	sw, svc := enabled(types.Type_NC_Software), enabled(types.Type_NC_Service)
	if !sw && !svc {
		return nil
	}
	return &Inventory{software: map[swKey]*types.Software{}, flows: map[swKey][]flowAt{}, services: map[svcKey]*types.Service{},
		swOn: sw, svcOn: svc, max: InventoryMax, agents: map[string]parsedAgent{}}
}

// Reads says whether the inventory reads records of type t.
func (inv *Inventory) Reads(t types.Type) bool {
	switch t {
	case types.Type_NC_HTTP, types.Type_NC_SSH:
		return true
	case types.Type_NC_Connection, types.Type_NC_SMTP, types.Type_NC_POP3, types.Type_NC_IMAP, types.Type_NC_FTP:
		return inv.svcOn
	}
	return false
}

// Observe reads one record. It may be called from any worker.
func (inv *Inventory) Observe(m proto.Message) {
	switch r := m.(type) {
	case *types.HTTP:
		if r.UserAgent != "" {
			ua := inv.agent(r.UserAgent)
			inv.sawSoftware(swKey{r.SrcIP, ua.name, ua.version, "client", "HTTP User-Agent"}, r.Timestamp, r.FrameNumber, r.FlowID, r.UserAgent, ua.os)
		}
		if r.ServerName != "" {
			product, version := productToken(r.ServerName)
			inv.sawSoftware(swKey{r.DstIP, product, version, "server", "HTTP Server"}, r.Timestamp, r.FrameNumber, r.FlowID, r.ServerName, "")
			inv.sawServer(svcKey{r.DstIP, r.DstPort, "TCP"}, "", product, version)
		}
	case *types.SSH:
		if r.Ident != "" {
			role := "server"
			if r.IsClient {
				role = "client"
			}
			inv.sawSoftware(swKey{r.SrcIP, r.Software, r.Version, role, "SSH"}, r.Timestamp, r.FrameNumber, r.FlowID, r.Ident, "")
			if !r.IsClient {
				inv.sawServer(svcKey{r.SrcIP, r.SrcPort, "TCP"}, r.Ident, r.Software, r.Version)
			}
		}
	case *types.SMTP:
		inv.sawGreeting("SMTP", r.DstIP, r.DstPort, r.Greeting, r.Timestamp, r.FrameNumber, r.FlowID)
	case *types.POP3:
		inv.sawGreeting("POP3", r.DstIP, r.DstPort, r.Greeting, r.Timestamp, r.FrameNumber, r.FlowID)
	case *types.IMAP:
		inv.sawGreeting("IMAP", r.DstIP, r.DstPort, r.Greeting, r.Timestamp, r.FrameNumber, r.FlowID)
	case *types.FTP:
		inv.sawGreeting("FTP", r.DstIP, r.DstPort, r.Greeting, r.Timestamp, r.FrameNumber, r.FlowID)
	case *types.Connection:
		// A data connection (Parent set) is one transfer to a port
		// opened for it: its control connection's server is the service.
		if r.ApplicationProto != "" && r.Parent == "" && (r.TransportProto == "TCP" || r.TransportProto == "UDP") {
			inv.sawConnection(r)
		}
	}
}

// sawGreeting notes a mail or FTP server's greeting as its banner, and the
// software it names (bannerProduct) as the server's.
func (inv *Inventory) sawGreeting(proto, ip string, port int32, greeting string, ts, frame int64, flow string) {
	if greeting == "" {
		return
	}
	product, version := bannerProduct(greeting)
	inv.sawSoftware(swKey{ip, product, version, "server", proto + " greeting"}, ts, frame, flow, greeting, "")
	inv.sawServer(svcKey{ip, port, "TCP"}, greeting, product, version)
}

// parsedAgent is what a User-Agent says.
type parsedAgent struct{ name, version, os string }

// agentCacheMax bounds the parsed User-Agents kept: a network has few, and
// parsing each HTTP record's again cost more than the rest of the inventory.
const agentCacheMax = 4096

// agent parses a User-Agent, from the cache when it was seen before.
func (inv *Inventory) agent(s string) parsedAgent {
	inv.uaMu.Lock()
	a, ok := inv.agents[s]
	inv.uaMu.Unlock()
	if ok {
		return a
	}
	ua := useragent.New(s)
	a.name, a.version = ua.Browser()
	a.os = ua.OS()
	inv.uaMu.Lock()
	if len(inv.agents) >= agentCacheMax {
		clear(inv.agents)
	}
	inv.agents[s] = a
	inv.uaMu.Unlock()
	return a
}

// productToken splits the first product of a Server field (RFC 9110
// 10.2.4: product = token ["/" product-version]).
func productToken(s string) (product, version string) {
	first, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	product, version, _ = strings.Cut(first, "/")
	return product, version
}

func (inv *Inventory) sawSoftware(k swKey, ts, frame int64, flow, raw, os string) {
	if !inv.swOn || k.product == "" {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	r := inv.software[k]
	if r == nil {
		if len(inv.software) >= inv.max {
			inv.Dropped++
			return
		}
		r = &types.Software{Host: k.host, Product: k.product, Version: k.version, Role: k.role, Source: k.source,
			Timestamp: ts, TimestampLast: ts, FrameNumber: frame, Raw: raw, OS: os}
		inv.software[k] = r
	}
	r.Count++
	// The first record in frame order wins the fields that come from one
	// record, whatever worker reported first.
	if frame < r.FrameNumber {
		r.FrameNumber, r.Timestamp, r.Raw, r.OS = frame, ts, raw, os
	}
	r.Timestamp = min(r.Timestamp, ts)
	r.TimestampLast = max(r.TimestampLast, ts)
	if flow != "" {
		inv.flows[k] = earliest(inv.flows[k], flowAt{frame, flow}, inventoryFlows)
	}
}

// sawServer notes what a server said about itself.
func (inv *Inventory) sawServer(k svcKey, banner, product, version string) {
	if !inv.svcOn {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	r := inv.service(k)
	if r == nil {
		return
	}
	// The smallest of each, so that the order of reports does not matter.
	if banner != "" && (r.Banner == "" || banner < r.Banner) {
		r.Banner = banner
	}
	// The same server again, the usual case, is compared without joining.
	same := product == r.Product && version == r.Version
	if product != "" && !same && (r.Product == "" || product+"/"+version < r.Product+"/"+r.Version) {
		r.Product, r.Version = product, version
	}
}

func (inv *Inventory) sawConnection(c *types.Connection) {
	if !inv.svcOn {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	r := inv.service(svcKey{c.DstIP, c.DstPort, c.TransportProto})
	if r == nil {
		return
	}
	if r.Connections == 0 || c.FrameFirst < r.FrameNumber {
		r.FrameNumber, r.Protocol = c.FrameFirst, c.ApplicationProto
	}
	if r.Connections == 0 || c.TimestampFirst < r.Timestamp {
		r.Timestamp = c.TimestampFirst
	}
	r.TimestampLast = max(r.TimestampLast, c.TimestampLast)
	r.Connections++
	r.BytesClient += c.BytesClientToServer
	r.BytesServer += c.BytesServerToClient
	if i, found := slices.BinarySearch(r.Clients, c.SrcIP); !found {
		r.Clients = slices.Insert(r.Clients, i, c.SrcIP)
		if len(r.Clients) > inventoryClients {
			r.Clients = r.Clients[:inventoryClients]
			r.MoreClients = true
		}
	}
}

// service returns the service of k, made when new; nil when full.
func (inv *Inventory) service(k svcKey) *types.Service {
	r := inv.services[k]
	if r == nil {
		if len(inv.services) >= inv.max {
			inv.Dropped++
			return nil
		}
		r = &types.Service{IP: k.ip, Port: k.port, Transport: k.transport}
		inv.services[k] = r
	}
	return r
}

// earliest adds f to fs, sorted by frame, and keeps the n earliest
// distinct FlowIDs.
func earliest(fs []flowAt, f flowAt, n int) []flowAt {
	for i, g := range fs {
		if g.id == f.id {
			if f.frame >= g.frame {
				return fs
			}
			fs = slices.Delete(fs, i, i+1)
			break
		}
	}
	i, _ := slices.BinarySearchFunc(fs, f, func(a, b flowAt) int {
		return cmp.Or(cmp.Compare(a.frame, b.frame), cmp.Compare(a.id, b.id))
	})
	fs = slices.Insert(fs, i, f)
	if len(fs) > n {
		fs = fs[:n]
	}
	return fs
}

// Records hands out the Software and Service records, sorted by their
// first frame, then by their key.
func (inv *Inventory) Records(emit func(types.Type, proto.Message)) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	sw := make([]*types.Software, 0, len(inv.software))
	for k, r := range inv.software {
		r.FlowIDs = r.FlowIDs[:0]
		for _, f := range inv.flows[k] {
			r.FlowIDs = append(r.FlowIDs, f.id)
		}
		sw = append(sw, r)
	}
	slices.SortFunc(sw, func(a, b *types.Software) int {
		return cmp.Or(cmp.Compare(a.FrameNumber, b.FrameNumber), cmp.Compare(a.Host, b.Host), cmp.Compare(a.Product, b.Product),
			cmp.Compare(a.Version, b.Version), cmp.Compare(a.Role, b.Role), cmp.Compare(a.Source, b.Source))
	})
	for _, r := range sw {
		emit(types.Type_NC_Software, r)
	}
	svc := make([]*types.Service, 0, len(inv.services))
	for _, r := range inv.services {
		if r.Connections > 0 {
			svc = append(svc, r)
		}
	}
	slices.SortFunc(svc, func(a, b *types.Service) int {
		return cmp.Or(cmp.Compare(a.FrameNumber, b.FrameNumber), cmp.Compare(a.IP, b.IP), cmp.Compare(a.Port, b.Port),
			cmp.Compare(a.Transport, b.Transport))
	})
	for _, r := range svc {
		emit(types.Type_NC_Service, r)
	}
}
