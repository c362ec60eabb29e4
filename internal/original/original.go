package original

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/internal/original/v047"
	"github.com/netcap/netcap/internal/original/v06"
)

// WriteFile writes a record file as the original netcap did: the header,
// then the records, each preceded by its length as a uvarint, the whole
// gzip'd when path ends in .gz (the original decided by the name too).
func WriteFile(path string, header proto.Message, recs ...proto.Message) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	var w io.Writer = bw
	var gz *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		gz = gzip.NewWriter(bw)
		w = gz
	}
	var b []byte
	for _, m := range append([]proto.Message{header}, recs...) {
		msg, err := proto.Marshal(m)
		if err != nil {
			f.Close()
			return err
		}
		b = protowire.AppendVarint(b[:0], uint64(len(msg)))
		b = append(b, msg...)
		if _, err := w.Write(b); err != nil {
			f.Close()
			return err
		}
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// TCPv047 writes dir/TCP.ncap.gz as netcap v0.4.7 wrote it, with two records,
// and returns its path.
func TCPv047(dir string) (string, error) {
	path := filepath.Join(dir, "TCP.ncap.gz")
	h := &v047.Header{Created: "1584283133.5", InputSource: "traffic.pcap", Type: v047.Type_NC_TCP, Version: "v0.4.7"}
	recs := []proto.Message{
		&v047.TCP{Timestamp: "1584283133.123456", SrcPort: 49152, DstPort: 443, SeqNum: 1, SYN: true, Window: 64240,
			Context: &v047.PacketContext{SrcIP: "10.0.0.1", DstIP: "10.0.0.2", SrcPort: "49152", DstPort: "443"}},
		&v047.TCP{Timestamp: "1584283133.5", SrcPort: 443, DstPort: 49152, SeqNum: 7, AckNum: 2, SYN: true, ACK: true,
			Context: &v047.PacketContext{SrcIP: "10.0.0.2", DstIP: "10.0.0.1", SrcPort: "443", DstPort: "49152"}},
	}
	return path, WriteFile(path, h, recs...)
}

// TCPv06 writes dir/TCP.ncap.gz as netcap v0.6.11 wrote it, with two records,
// and returns its path.
func TCPv06(dir string) (string, error) {
	path := filepath.Join(dir, "TCP.ncap.gz")
	h := &v06.Header{Created: 1598000000000000000, InputSource: "traffic.pcap", Type: v06.Type_NC_TCP, Version: "v0.6.11"}
	recs := []proto.Message{
		&v06.TCP{Timestamp: 1598000000123456000, SrcPort: 49152, DstPort: 443, SeqNum: 1, SYN: true, SrcIP: "10.0.0.1", DstIP: "10.0.0.2"},
		&v06.TCP{Timestamp: 1598000000223456000, SrcPort: 443, DstPort: 49152, SeqNum: 7, AckNum: 2, SYN: true, ACK: true, SrcIP: "10.0.0.2", DstIP: "10.0.0.1"},
	}
	return path, WriteFile(path, h, recs...)
}
