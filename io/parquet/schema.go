// Package ncparquet writes netcap records as Apache Parquet files, one file per
// record type, with a schema built at run time from the record type's protobuf
// descriptor: one generic writer serves every type of netcap.proto, including
// types added later, without code per type.
//
// The mapping, field by field (proto3 has no presence for scalars, so scalar
// columns are REQUIRED; message fields are OPTIONAL, null when absent):
//
//	bool                                  BOOLEAN
//	int32, sint32, sfixed32               INT32
//	uint32, fixed32                       INT32 (UINT_32)
//	int64, sint64, sfixed64               INT64
//	uint64, fixed64                       INT64 (UINT_64)
//	float, double                         FLOAT, DOUBLE
//	string                                BYTE_ARRAY (STRING)
//	bytes                                 BYTE_ARRAY
//	enum                                  BYTE_ARRAY (STRING): the value's name, as net dump prints it
//	                                      (a number without a name: its decimal digits)
//	Unix-ns timestamps (ncio.IsTimestamp) INT64 TIMESTAMP(NANOS, UTC)
//	message                               group (a struct), null when absent
//	repeated T                            LIST of T, empty when there is none
//	map<K, V>                             MAP, keys sorted
//
// Recursive messages cannot be a fixed Parquet schema. A message field whose
// type links to itself by one singular field (GRE's Routing, a GRERouting whose
// Next is the following entry) is written as a LIST of that type without the
// link, following the chain: the linked list as the list it is. Any other
// recursion (a type that appears again deeper on its own path) is written as a
// STRING column holding the sub-message as JSON, as net dump -json prints it.
//
// Columns keep netcap.proto's order and names; the file's key-value metadata
// carries the header a record file would start with (netcap.type,
// netcap.version, netcap.source, netcap.created, netcap.payloads,
// netcap.schema). Integer columns are DELTA_BINARY_PACKED, the rest PLAIN,
// every page zstd-compressed; files are cut into row groups of a bounded number
// of rows, written as the records arrive, so memory stays flat whatever the
// input's size.
package ncparquet

import "google.golang.org/protobuf/reflect/protoreflect"

// maxChain bounds the entries of a linked list written as a LIST. The decoders
// bound their chains far below it; a record built elsewhere cannot make a row
// without end.
const maxChain = 4096

// chainLink returns the singular field by which md links to another md, or
// nil (also when there are two such fields: a tree, not a chain).
func chainLink(md protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	fds := md.Fields()
	var link protoreflect.FieldDescriptor
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() && fd.Message().FullName() == md.FullName() {
			if link != nil {
				return nil
			}
			link = fd
		}
	}
	return link
}
