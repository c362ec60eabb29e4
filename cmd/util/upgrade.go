package util

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/netcap/netcap"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// upgradeTypes are the record types -upgrade converts, by the original's
// layout; their type numbers are the same in both projects.
var upgradeTypes = map[ncio.Origin][]types.Type{
	ncio.OriginOriginal04: {types.Type_NC_Flow, types.Type_NC_Connection, types.Type_NC_Ethernet, types.Type_NC_ARP,
		types.Type_NC_Dot1Q, types.Type_NC_LLC, types.Type_NC_IPv4, types.Type_NC_IPv6, types.Type_NC_ICMPv4,
		types.Type_NC_ICMPv6, types.Type_NC_ICMPv6Echo, types.Type_NC_UDP, types.Type_NC_TCP, types.Type_NC_SCTP,
		types.Type_NC_DNS, types.Type_NC_DHCPv4, types.Type_NC_NTP, types.Type_NC_HTTP, types.Type_NC_TLSClientHello},
	ncio.OriginOriginal06: {types.Type_NC_Connection, types.Type_NC_Ethernet, types.Type_NC_ARP,
		types.Type_NC_Dot1Q, types.Type_NC_LLC, types.Type_NC_IPv4, types.Type_NC_IPv6, types.Type_NC_ICMPv4,
		types.Type_NC_ICMPv6, types.Type_NC_ICMPv6Echo, types.Type_NC_UDP, types.Type_NC_TCP, types.Type_NC_SCTP,
		types.Type_NC_DNS, types.Type_NC_DHCPv4, types.Type_NC_NTP, types.Type_NC_HTTP, types.Type_NC_TLSClientHello},
}

// knownDefects are what the original computed differently, kept as it was:
// printed with each converted file so that nobody takes them for ours.
var knownDefects = map[ncio.Origin]map[types.Type]string{
	ncio.OriginOriginal04: {
		types.Type_NC_Flow:           "NumPackets and TotalSize as v0.4 counted them (without the flow's first packet); AppPayloadSize is the first packet's only",
		types.Type_NC_Connection:     "NumPackets and TotalSize as v0.4 counted them (without the connection's first packet); AppPayloadSize is the first packet's only",
		types.Type_NC_TLSClientHello: "DstPort as v0.4.7 wrote it (it held the source port)",
		types.Type_NC_HTTP:           "Timestamp is the TCP stream's first packet, as v0.4 wrote it",
	},
	ncio.OriginOriginal06: {
		types.Type_NC_Connection: "NumPackets, TotalSize (wire length) and the flag counters as v0.6 counted them",
	},
}

var (
	schemaOnce sync.Once
	schemas    map[ncio.Origin]protoreflect.FileDescriptor
	schemaErr  error
)

func originalSchema(o ncio.Origin) (protoreflect.FileDescriptor, error) {
	schemaOnce.Do(func() {
		schemas = map[ncio.Origin]protoreflect.FileDescriptor{}
		for o, src := range map[ncio.Origin]string{ncio.OriginOriginal04: originalV047, ncio.OriginOriginal06: originalV06} {
			fd, err := parseSchema(fmt.Sprintf("netcap_original_%d", o), src)
			if err != nil {
				schemaErr = err
				return
			}
			schemas[o] = fd
		}
	})
	return schemas[o], schemaErr
}

// upgradeReport is what converting one file did.
type upgradeReport struct {
	In, Out   string
	Writer    string // "the original netcap v0.4.7"
	Type      string
	Records   int64
	Converted map[string]int64 // conversion -> records it was applied to
	Dropped   map[string]int64 // value not carried over -> records that had one
	Empty     []string         // fields of this build the original did not have
	Defect    string
	Skipped   string // why the file was not converted (not an error)
	Err       error
}

// converter maps one original record type onto this build's.
type converter struct {
	origin ncio.Origin
	src    protoreflect.MessageDescriptor
	dst    protoreflect.MessageType
	rep    *upgradeReport
	once   map[string]bool // notes of the current record, counted once per record
}

func (c *converter) note(m map[string]int64, s string) {
	if !c.once[s] {
		c.once[s] = true
		m[s]++
	}
}

func (c *converter) converted(s string) { c.note(c.rep.Converted, s) }
func (c *converter) dropped(s string)   { c.note(c.rep.Dropped, s) }

// renamed are fields the original named otherwise (v0.4 ARP).
var renamed = map[string]string{
	"ARP.ProtAddressSize": "ProtocolAddressSize",
	"ARP.SrcProtAddress":  "SrcProtocolAddress",
	"ARP.DstProtAddress":  "DstProtocolAddress",
}

// record converts one original record.
func (c *converter) record(b []byte) (proto.Message, error) {
	src := dynamicpb.NewMessage(c.src)
	if err := proto.Unmarshal(b, src); err != nil {
		return nil, err
	}
	clear(c.once)
	dst := c.dst.New()
	c.message(src, dst, string(c.src.Name()))
	return dst.Interface(), nil
}

// message copies src's fields into dst by name, converting types.
func (c *converter) message(src, dst protoreflect.Message, path string) {
	var ctx protoreflect.Message
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := string(fd.Name())
		if name == "Context" && fd.Kind() == protoreflect.MessageKind {
			ctx = v.Message()
			return true
		}
		if n, ok := renamed[path+"."+name]; ok {
			c.converted(fmt.Sprintf("%s.%s renamed %s", path, name, n))
			name = n
		}
		dfd := dst.Descriptor().Fields().ByName(protoreflect.Name(name))
		if dfd == nil {
			c.dropped(fmt.Sprintf("%s.%s (this build has no such field)", path, fd.Name()))
			return true
		}
		c.field(fd, dfd, v, dst, path+"."+name)
		return true
	})
	if u := src.GetUnknown(); len(u) > 0 {
		c.dropped(fmt.Sprintf("%s: fields the original's %s does not define (damaged, or another version)", path, src.Descriptor().Name()))
	}
	if ctx != nil {
		c.context(ctx, dst, path)
	}
	if path == "HTTP" && c.origin == ncio.OriginOriginal04 {
		// v0.4 capture put the response's Content-Type in ContentType
		// and never set ResContentType; ours keeps the request's there.
		ct := dst.Descriptor().Fields().ByName("ContentType")
		rct := dst.Descriptor().Fields().ByName("ResContentType")
		if dst.Has(ct) && !dst.Has(rct) {
			dst.Set(rct, dst.Get(ct))
			dst.Clear(ct)
			c.converted("HTTP.ContentType (v0.4: the response's) moved to ResContentType")
		}
	}
}

// context flattens a v0.4 PacketContext into the record's own SrcIP, DstIP,
// SrcPort and DstPort, keeping values the record already has.
func (c *converter) context(ctx, dst protoreflect.Message, path string) {
	ctx.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := fd.Name()
		dfd := dst.Descriptor().Fields().ByName(name)
		if dfd == nil {
			c.dropped(fmt.Sprintf("%s.Context.%s (this build has no %s.%s)", path, name, path, name))
			return true
		}
		if dst.Has(dfd) {
			// The record's own field wins; a context that says
			// otherwise is reported, not silently lost.
			if own := dst.Get(dfd); fmt.Sprint(own.Interface()) != v.String() {
				c.dropped(fmt.Sprintf("%s.Context.%s (differs from the record's own %s)", path, name, name))
			}
			return true
		}
		c.converted(fmt.Sprintf("%s.Context (PacketContext) flattened into SrcIP, DstIP, SrcPort, DstPort", path))
		c.field(fd, dfd, v, dst, path+".Context."+string(name))
		return true
	})
}

// field sets dst's field dfd from the original's value v of field fd.
func (c *converter) field(fd, dfd protoreflect.FieldDescriptor, v protoreflect.Value, dst protoreflect.Message, path string) {
	switch {
	case fd.IsMap() && dfd.IsMap() && fd.MapKey().Kind() == dfd.MapKey().Kind() &&
		fd.MapValue().Kind() == dfd.MapValue().Kind() && fd.MapValue().Kind() != protoreflect.MessageKind:
		// A map of scalars of the same kinds (HTTP's header maps and
		// query parameters) is copied.
		dm := dst.Mutable(dfd).Map()
		v.Map().Range(func(k protoreflect.MapKey, e protoreflect.Value) bool {
			dm.Set(k, e)
			return true
		})
	case fd.IsMap() || dfd.IsMap():
		c.dropped(fmt.Sprintf("%s (a map this build cannot take)", path))
	case fd.IsList() != dfd.IsList():
		c.dropped(fmt.Sprintf("%s (list and single value differ)", path))
	case fd.IsList():
		src, out := v.List(), dst.Mutable(dfd).List()
		for i := 0; i < src.Len(); i++ {
			if dfd.Kind() == protoreflect.MessageKind {
				if fd.Kind() != protoreflect.MessageKind {
					c.dropped(fmt.Sprintf("%s (kinds differ)", path))
					return
				}
				e := out.NewElement()
				c.message(src.Get(i).Message(), e.Message(), path)
				out.Append(e)
				continue
			}
			if e, ok := c.scalar(fd, dfd, src.Get(i), path); ok {
				out.Append(e)
			}
		}
	case fd.Kind() == protoreflect.MessageKind && dfd.Kind() == protoreflect.MessageKind:
		c.message(v.Message(), dst.Mutable(dfd).Message(), path)
	default:
		if e, ok := c.scalar(fd, dfd, v, path); ok {
			dst.Set(dfd, e)
		}
	}
}

// scalar converts one value (or list element) of the original.
func (c *converter) scalar(fd, dfd protoreflect.FieldDescriptor, v protoreflect.Value, path string) (protoreflect.Value, bool) {
	sk, dk := fd.Kind(), dfd.Kind()
	name := string(dfd.Name())
	switch {
	case sk == protoreflect.MessageKind && dk == protoreflect.StringKind && fd.Message().Name() == "HTTPCookie":
		c.converted(fmt.Sprintf("%s: HTTPCookie -> its Name (Value, Path, Domain, Expires, MaxAge, Secure, HttpOnly, SameSite dropped)", path))
		return protoreflect.ValueOfString(v.Message().Get(fd.Message().Fields().ByName("Name")).String()), true
	case sk == protoreflect.StringKind && dk == protoreflect.StringKind && (name == "ReqCookies" || name == "ResCookies"):
		s := v.String()
		if n, _, ok := strings.Cut(s, "="); ok {
			c.converted(fmt.Sprintf("%s: \"name=value\" -> name (this build keeps cookie names only)", path))
			s = strings.TrimSpace(n)
		}
		return protoreflect.ValueOfString(s), true
	case sk == protoreflect.StringKind && dk == protoreflect.Int64Kind && isTimestampName(name):
		if v.String() == "" {
			return protoreflect.Value{}, false
		}
		ns, err := parseOriginalTime(v.String())
		if err != nil {
			c.dropped(fmt.Sprintf("%s (not a \"seconds.microseconds\" time)", path))
			return protoreflect.Value{}, false
		}
		c.converted(fmt.Sprintf("%s: \"seconds.microseconds\" string -> Unix ns", path))
		return protoreflect.ValueOfInt64(ns), true
	case sk == protoreflect.StringKind && dk == protoreflect.Int32Kind && strings.HasSuffix(name, "Port"):
		if v.String() == "" {
			return protoreflect.Value{}, false
		}
		p, err := strconv.ParseUint(v.String(), 10, 16)
		if err != nil {
			c.dropped(fmt.Sprintf("%s (not a port number)", path))
			return protoreflect.Value{}, false
		}
		c.converted(fmt.Sprintf("%s: string -> int32", path))
		return protoreflect.ValueOfInt32(int32(p)), true
	case sk == protoreflect.Int32Kind && dk == protoreflect.Int64Kind:
		c.converted(fmt.Sprintf("%s: int32 -> int64", path))
		return protoreflect.ValueOfInt64(v.Int()), true
	case sk == protoreflect.Uint32Kind && dk == protoreflect.Int32Kind && strings.HasSuffix(name, "Port"):
		if v.Uint() > 65535 {
			c.dropped(fmt.Sprintf("%s (not a port number)", path))
			return protoreflect.Value{}, false
		}
		c.converted(fmt.Sprintf("%s: uint32 -> int32", path))
		return protoreflect.ValueOfInt32(int32(v.Uint())), true
	case sk == protoreflect.StringKind && dk == protoreflect.BytesKind:
		c.converted(fmt.Sprintf("%s: string -> bytes", path))
		return protoreflect.ValueOfBytes([]byte(v.String())), true
	case sk == protoreflect.BytesKind && dk == protoreflect.StringKind:
		return c.bytesToString(v.Bytes(), name, path), true
	case sk == dk:
		return v, true
	}
	c.dropped(fmt.Sprintf("%s (%s in the original, %s here)", path, sk, dk))
	return protoreflect.Value{}, false
}

// bytesToString renders the v0.4 raw-byte fields as this build's text: ARP
// addresses in their text form, names as UTF-8.
func (c *converter) bytesToString(b []byte, name, path string) protoreflect.Value {
	switch name {
	case "SrcHwAddress", "DstHwAddress":
		if len(b) == 6 || len(b) == 8 {
			c.converted(fmt.Sprintf("%s: raw bytes -> MAC text", path))
			return protoreflect.ValueOfString(net.HardwareAddr(b).String())
		}
	case "SrcProtocolAddress", "DstProtocolAddress":
		if len(b) == 4 || len(b) == 16 {
			c.converted(fmt.Sprintf("%s: raw bytes -> IP text", path))
			return protoreflect.ValueOfString(net.IP(b).String())
		}
	}
	if utf8.Valid(b) {
		c.converted(fmt.Sprintf("%s: bytes -> string", path))
		return protoreflect.ValueOfString(string(b))
	}
	c.converted(fmt.Sprintf("%s: bytes -> string, invalid UTF-8 replaced by U+FFFD", path))
	return protoreflect.ValueOfString(strings.ToValidUTF8(string(b), "\uFFFD"))
}

func isTimestampName(n string) bool {
	return n == "Timestamp" || n == "TimestampFirst" || n == "TimestampLast" || n == "Created"
}

// parseOriginalTime reads the original's v0.4 time text: Unix seconds, a dot
// and the microseconds as a plain integer, NOT zero-padded (utils.TimeToString
// wrote 5 µs as ".5"), so ".5" is 5 µs and ".500000" is half a second.
func parseOriginalTime(s string) (int64, error) {
	sec, usec, ok := strings.Cut(s, ".")
	if !ok {
		usec = "0"
	}
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, err
	}
	u, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || u < 0 || u >= 1e6 || n < -9e9 || n > 9e9 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return n*1e9 + u*1e3, nil
}

// upgradeFile converts one record file of the original into dir.
func upgradeFile(in, dir string) *upgradeReport {
	rep := &upgradeReport{In: in, Converted: map[string]int64{}, Dropped: map[string]int64{}}
	r, err := ncio.OpenAnySchema(in)
	if err != nil {
		rep.Err = err
		return rep
	}
	defer r.Close()
	info := r.Info()
	rep.Writer = info.Writer()
	typ := types.Type(info.Type)
	rep.Type = types.Name(typ)
	switch {
	case info.Origin == ncio.OriginOurs:
		rep.Skipped = "already of this build's schema, nothing to convert"
		return rep
	case info.Origin == ncio.OriginNewer:
		rep.Err = &ncio.SchemaError{Path: in, Info: info}
		return rep
	case !info.Convertible():
		rep.Err = fmt.Errorf("%s: written by %s: -upgrade converts only files of v0.4.x and v0.6 or later", in, info.Writer())
		return rep
	}
	fd, err := originalSchema(info.Origin)
	if err != nil {
		rep.Err = err
		return rep
	}
	supported := false
	for _, t := range upgradeTypes[info.Origin] {
		supported = supported || t == typ
	}
	if !supported {
		names := make([]string, 0, len(upgradeTypes[info.Origin]))
		for _, t := range upgradeTypes[info.Origin] {
			names = append(names, types.Name(t))
		}
		what := rep.Type
		if _, known := types.Type_name[info.Type]; !known {
			what = fmt.Sprintf("type %d (unknown to this build)", info.Type)
		}
		rep.Err = fmt.Errorf("%s: %s records of %s are not converted; -upgrade converts %s", in, what, info.Writer(), strings.Join(names, ", "))
		return rep
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("netcap." + rep.Type))
	if err != nil {
		rep.Err = err
		return rep
	}
	c := &converter{origin: info.Origin, src: fd.Messages().ByName(protoreflect.Name(rep.Type)), dst: mt, rep: rep, once: map[string]bool{}}
	rep.Empty = emptyFields(c.src, mt.Descriptor())
	rep.Defect = knownDefects[info.Origin][typ]

	h := r.Header()
	out := &types.Header{InputSource: h.InputSource, Type: typ, Version: netcap.Version, ContainsPayloads: h.ContainsPayloads}
	if info.Origin == ncio.OriginOriginal06 {
		out.Created = h.Created
	} else if created, ok := headerCreatedString(r.RawHeader()); ok && created != "" {
		if out.Created, err = parseOriginalTime(created); err != nil {
			rep.Dropped["header Created (not a \"seconds.microseconds\" time)"] = 1
		}
	}
	rep.Out = filepath.Join(dir, rep.Type+".ncap.gz")
	if _, err := os.Lstat(rep.Out); err == nil {
		rep.Err = fmt.Errorf("%s exists; it is not overwritten: give an empty -out folder", rep.Out)
		return rep
	}
	w, err := ncio.Create(rep.Out, out, true)
	if err != nil {
		rep.Err = err
		return rep
	}
	var bad int64
	var firstBad error
	for {
		b, err := r.NextRaw()
		if err == io.EOF {
			break
		}
		if err != nil {
			rep.Err = fmt.Errorf("%s: after %d records: %w", in, rep.Records+bad, err)
			break
		}
		m, err := c.record(b)
		if err != nil {
			if firstBad == nil {
				firstBad = fmt.Errorf("%s: record %d does not decode as the original's %s: %v", in, rep.Records+bad, rep.Type, err)
			}
			bad++
			continue
		}
		if err := w.Write(m); err != nil {
			rep.Err = err
			break
		}
		rep.Records++
	}
	if err := w.Close(); err != nil && rep.Err == nil {
		rep.Err = err
	}
	if bad > 0 && rep.Err == nil {
		rep.Err = fmt.Errorf("%d records not converted (%v)", bad, firstBad)
	}
	return rep
}

// headerCreatedString returns the v0.4 header's Created text (field 1).
func headerCreatedString(b []byte) (string, bool) {
	hd := dynamicpb.NewMessage(headerV04())
	if proto.Unmarshal(b, hd) != nil {
		return "", false
	}
	return hd.Get(hd.Descriptor().Fields().ByNumber(1)).String(), true
}

var headerV04 = sync.OnceValue(func() protoreflect.MessageDescriptor {
	fd, err := parseSchema("netcap_original_header", "message Header { string Created = 1; string InputSource = 2; int32 Type = 3; string Version = 4; bool ContainsPayloads = 5; }")
	if err != nil {
		panic(err) // a constant above
	}
	return fd.Messages().ByName("Header")
})

// emptyFields lists the fields of this build's type that the original's
// type has not, not counting those its PacketContext fills.
func emptyFields(src, dst protoreflect.MessageDescriptor) []string {
	ctx := src.Fields().ByName("Context") != nil
	have := map[string]bool{}
	for i := 0; i < src.Fields().Len(); i++ {
		n := string(src.Fields().Get(i).Name())
		if r, ok := renamed[string(src.Name())+"."+n]; ok {
			n = r
		}
		have[n] = true
	}
	var out []string
	for i := 0; i < dst.Fields().Len(); i++ {
		n := string(dst.Fields().Get(i).Name())
		if have[n] || (ctx && (n == "SrcIP" || n == "DstIP" || n == "SrcPort" || n == "DstPort")) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// upgradeInputs lists the record files to convert: path itself, or the
// .ncap and .ncap.gz files of a folder.
func upgradeInputs(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".ncap") || strings.HasSuffix(n, ".ncap.gz")) {
			out = append(out, filepath.Join(path, n))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no record files (*.ncap, *.ncap.gz)", path)
	}
	return out, nil
}

// runUpgrade is net util -upgrade -read IN -out DIR.
func runUpgrade(in, dir string, stdout, stderr io.Writer) int {
	if in == "" || dir == "" {
		fmt.Fprintln(stderr, "net util: -upgrade needs -read FILE|FOLDER (record files of the original netcap) and -out FOLDER")
		return 2
	}
	files, err := upgradeInputs(in)
	if err != nil {
		fmt.Fprintf(stderr, "net util: -upgrade: %v\n", err)
		return 2
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "net util: -upgrade: %v\n", err)
		return 2
	}
	failed, done := 0, 0
	for _, f := range files {
		rep := upgradeFile(f, dir)
		printUpgrade(stdout, rep)
		if rep.Err != nil {
			failed++
			fmt.Fprintf(stderr, "net util: -upgrade: %v\n", rep.Err)
			continue
		}
		if rep.Skipped == "" {
			done++
		}
	}
	fmt.Fprintf(stdout, "%d files converted into %s, %d failed, %d skipped\n", done, dir, failed, len(files)-done-failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func printUpgrade(w io.Writer, rep *upgradeReport) {
	switch {
	case rep.Skipped != "":
		fmt.Fprintf(w, "skip %s: %s\n", rep.In, rep.Skipped)
		return
	case rep.Out == "" && rep.Err != nil:
		fmt.Fprintf(w, "FAIL %s: %v\n", rep.In, rep.Err)
		return
	}
	status := "ok  "
	if rep.Err != nil {
		status = "FAIL"
	}
	fmt.Fprintf(w, "%s %s (%s) -> %s: %d %s records\n", status, rep.In, rep.Writer, rep.Out, rep.Records, rep.Type)
	for _, part := range []struct {
		label string
		m     map[string]int64
	}{{"converted", rep.Converted}, {"dropped", rep.Dropped}} {
		keys := make([]string, 0, len(part.m))
		for k := range part.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s: %s (%d records)\n", part.label, k, part.m[k])
		}
	}
	if len(rep.Empty) > 0 {
		fmt.Fprintf(w, "  left empty (not in the original): %s\n", strings.Join(rep.Empty, ", "))
	}
	if rep.Defect != "" {
		fmt.Fprintf(w, "  kept as the original computed it: %s\n", rep.Defect)
	}
}
