package decoder_test

import (
	"context"

	"github.com/netcap/netcap/capture"
	"github.com/netcap/netcap/decoder"
	"github.com/netcap/netcap/types"
)

// The tshark oracle (tshark_test.go) runs the whole engine on each capture;
// the engine is package capture, which imports package decoder, so only a
// test of the external package can call it. This hands it to the oracle.
func init() {
	decoder.OracleEngine = func(ctx context.Context, path, dir string, enabled func(types.Type) bool) (unreadable, err error) {
		src, err := capture.OpenFile(path)
		if err != nil {
			return err, nil
		}
		defer src.Close()
		_, err = capture.Run(ctx, src, capture.Config{
			Decoding: capture.DecodeConfig{Workers: 2, Enabled: enabled},
			Output:   capture.OutputConfig{Dir: dir, Compress: true, IgnoreUnknown: true},
		})
		return nil, err
	}
}
