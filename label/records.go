package label

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
)

// nextRecord reads record n+1 of the file at path into m (reset first). The
// record is walked with chk (made for m's type) before it is decoded, as net dump does: a
// damaged record (fields its type lacks, nesting beyond the limits) stops
// labelling instead of being written as if it were whole. Every error names
// the file and the record (counted from 1 after the header, as net dump
// counts), for the exit 1 of net label.
func nextRecord(r *ncio.Reader, chk *wirecheck.Checker, path string, n int64, m proto.Message) error {
	b, err := r.NextRaw()
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.Is(err, ncio.ErrTruncated):
		return fmt.Errorf("%s is truncated inside record %d (a killed net capture, a full disk or a partial copy); net util -check %s tells more", path, n+1, path)
	case err != nil:
		return fmt.Errorf("%v (record %d); net util -check %s tells more", err, n+1, path)
	}
	if err := chk.Check(b); err != nil {
		return fmt.Errorf("%s: record %d is damaged: %v; net util -check %s tells more", path, n+1, err, path)
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%s: record %d does not decode as %s: %v", path, n+1, m.ProtoReflect().Descriptor().Name(), err)
	}
	return nil
}
