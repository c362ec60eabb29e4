package capture

import (
	"io"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	ncio "github.com/netcap/netcap/io"
)

// TestPayloadOption: without -payload no record carries payload bytes and
// the headers say so; with it, the headers say so and every record with a
// Payload field holds as many bytes as its PayloadSize says, which the
// decoders take from the packet.
func TestPayloadOption(t *testing.T) {
	for _, on := range []bool{false, true} {
		out, _ := runEngine(t, filepath.Join("..", "testdata", "loopback.pcap"), Config{
			Decoding: DecodeConfig{Workers: 2, Payloads: on},
			Output:   OutputConfig{Compress: true},
		})
		files, _ := filepath.Glob(filepath.Join(out, "*.ncap.gz"))
		withPayload, records := 0, 0
		for _, f := range files {
			r, err := ncio.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			if r.Header().ContainsPayloads != on {
				t.Errorf("%s: header says payloads %v, want %v", f, r.Header().ContainsPayloads, on)
			}
			for {
				m := r.New()
				if err := r.Next(m); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				rm := m.ProtoReflect()
				pf := rm.Descriptor().Fields().ByName("Payload")
				if pf == nil || pf.Kind() != protoreflect.BytesKind {
					continue
				}
				records++
				n := len(rm.Get(pf).Bytes())
				if !on && n > 0 {
					t.Fatalf("%s: %d payload bytes without -payload", f, n)
				}
				if sf := rm.Descriptor().Fields().ByName("PayloadSize"); on && sf != nil && int64(n) != rm.Get(sf).Int() {
					t.Fatalf("%s: %d payload bytes, PayloadSize %d", f, n, rm.Get(sf).Int())
				}
				if n > 0 {
					withPayload++
				}
			}
			r.Close()
		}
		if records == 0 {
			t.Fatal("no record with a Payload field")
		}
		if on && withPayload == 0 {
			t.Errorf("-payload: none of %d records has payload bytes", records)
		}
		t.Logf("payloads %v: %d of %d records with a Payload field carry bytes", on, withPayload, records)
	}
}
