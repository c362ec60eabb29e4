package types

import "testing"

func TestName(t *testing.T) {
	for typ, want := range map[Type]string{Type_NC_TCP: "TCP", Type_NC_TLSClientHello: "TLSClientHello", Type_NC_Header: "Header"} {
		if got := Name(typ); got != want {
			t.Errorf("Name(%v) = %q, want %q", typ, got, want)
		}
	}
}
