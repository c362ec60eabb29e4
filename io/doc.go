// Package ncio reads and writes netcap record files.
//
// A record file (<Type>.ncap.gz) is a gzip stream of uvarint-length-delimited
// protobuf messages: first a types.Header that names the record type, then
// records of that one type. There is no index and no end marker, so a reader
// must tell a clean end (EOF between two records) from a cut file (EOF inside a
// length prefix or a message); Reader reports the latter as ErrTruncated instead
// of silently accepting it, which the original netcap did.
//
// The directory is io/ as the project's layout asks; the package is named ncio so
// that it does not shadow the standard library's io in the files that import it.
package ncio
