package ncparquet

import (
	"errors"
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/netcap/netcap/internal/wirecheck"
	ncio "github.com/netcap/netcap/io"
	"github.com/netcap/netcap/types"
)

// Convert writes the records of the record file src as the Parquet file
// dst, with src's header as metadata. It writes dst under a temporary name
// and renames it when complete, so that dst is never a partial file (a
// reader of the folder sees the old file or the new one). Every record is
// checked against its type first, as the reading tools do; a cut or damaged
// src is an error and leaves dst as it was. It returns the records written.
func Convert(src, dst string, o Options) (int64, error) {
	r, err := ncio.Open(src)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	h := proto.Clone(r.Header()).(*types.Header)
	md := ncio.MessageDescriptor(h.Type)
	if md == nil {
		return 0, fmt.Errorf("%s: record type %v has no message type in this build", src, h.Type)
	}
	tmp := dst + ".tmp"
	w, err := Create(tmp, h.Type, h, o)
	if err != nil {
		return 0, err
	}
	fail := func(err error) (int64, error) {
		w.Close()
		os.Remove(tmp)
		return 0, err
	}
	chk := wirecheck.NewChecker(md, wirecheck.Default)
	for {
		rec, err := r.NextRaw()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		if err := chk.Check(rec); err != nil {
			return fail(fmt.Errorf("%s: record %d: %w", src, w.Count()+1, err))
		}
		if err := w.WriteRecord(rec); err != nil {
			return fail(err)
		}
	}
	if err := w.Close(); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return w.Count(), nil
}
