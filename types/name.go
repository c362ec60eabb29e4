package types

import "strings"

// Name is the record type's name as users write it: the enum value without
// its NC_ prefix ("TCP"), also the base name of its file (TCP.ncap.gz).
func Name(t Type) string { return strings.TrimPrefix(t.String(), "NC_") }
