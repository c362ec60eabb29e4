package decoder

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

func init() {
	addProtocolTest("EAPOL", protocolTest{
		cases: eapolCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeEAPOL, rec: types.Type_NC_EAPOL, link: layers.LinkTypeEthernet,
			below: etherLinkStack, wrap: overEthernet(0x888e), max: fuzzMax,
			built: func() [][]byte { return [][]byte{{1, 1, 0, 0}, cat([]byte{1, 0, 0, 5}, []byte{1, 1, 0, 5, 1})} },
		},
		oracle: []tsRecord{
			{
				typ: types.Type_NC_EAPOL, protos: []string{"eapol"},
				fields: []tsField{
					{ours: "Version", tshark: "eapol.version", want: tsNum("eapol.version")},
					{ours: "Type", tshark: "eapol.type", want: tsNum("eapol.type")},
					{ours: "Length", tshark: "eapol.len", want: tsNum("eapol.len")},
				},
			},
		},
	})
	addProtocolTest("EAPOLKey", protocolTest{
		cases: eapolKeyCases,
		fuzz: &fuzzTarget{
			layer: layers.LayerTypeEAPOLKey, rec: types.Type_NC_EAPOLKey, link: layers.LinkTypeEthernet,
			below: []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeEAPOL}, max: 0xffff,
			wrap: func(b []byte) []byte {
				return cat(ethHeader(0x888e), []byte{2, 3, byte(len(b) >> 8), byte(len(b))}, b)
			},
			built: func() [][]byte { return eapolKeySeeds() },
		},
		oracle: []tsRecord{
			{
				// tshark keeps the key descriptor inside eapol.
				typ: types.Type_NC_EAPOLKey, protos: []string{"eapol"}, keep: func(p *tsNode) bool { return p.field("eapol.keydes.type") != nil },
				partial: "the RSN key descriptor's fields (key information bits, nonce, RSC, key data length) are checked by " +
					"TestEAPOLKeyRSNFields on a built frame, not yet against tshark",
				fields: []tsField{
					{ours: "KeyDescriptorType", tshark: "eapol.keydes.type", want: tsNum("eapol.keydes.type")},
					{ours: "KeyLength", tshark: "eapol.keydes.key_len", want: tsNum("eapol.keydes.key_len")},
					{ours: "ReplayCounter", tshark: "eapol.keydes.replay_counter", want: tsNum("eapol.keydes.replay_counter")},
					{ours: "IV", tshark: "eapol.keydes.key_iv (bytes)", want: tsRawHex("eapol.keydes.key_iv")},
					{ours: "KeyIndex", tshark: "eapol.keydes.key_index.number", want: tsNum("eapol.keydes.key_index.number")},
					{ours: "KeyType", tshark: "eapol.keydes.key_index.type", want: tsNum("eapol.keydes.key_index.type")},
					{ours: "MIC", tshark: "eapol.keydes.key_signature (RC4 descriptors)", want: tsRawHex("eapol.keydes.key_signature")},
					{ours: "EncryptedKeyData", tshark: "eapol.keydes.key (RC4 descriptors)", want: tsRawHex("eapol.keydes.key")},
				},
			},
		},
	})
}

func FuzzEAPOL(f *testing.F)    { fuzzLayer(f, "EAPOL") }
func FuzzEAPOLKey(f *testing.F) { fuzzLayer(f, "EAPOLKey") }

// eapolCases are packets of EAPOL built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var eapolCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 EAPOL 18 Start
	{name: "Start", link: layers.LinkTypeEthernet,
		hex:  "020000000002020000000001888e0101 0000",
		want: map[string]string{"Length": "0", "Type": "1", "Version": "1"}},
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 EAP 23 Request, Identity
	{name: "Request, Identity", link: layers.LinkTypeEthernet,
		hex:  "020000000002020000000001888e0100 00050101000501",
		want: map[string]string{"Length": "5", "Type": "0", "Version": "1"}},
}

// eapolKeyCases are packets of EAPOLKey built by its fuzz target's seeds (or, where
// those give none, another protocol's); the expected values are tshark's.
var eapolKeyCases = []packetCase{
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 EAPOL 113 Key (Message 1 of 4)
	{name: "Key (Message 1 of 4)", link: layers.LinkTypeEthernet,
		hex:  "020000000002020000000001888e0203 005f02008a001000000000000000010d 0e0f101112131415161718191a1b1c1d 1e1f202122232425262728292a2b2c00 00000000000000000000000000000000 00000000000000000000000000000000 00000000000000000000000000000000 00",
		want: map[string]string{"IV": "00000000000000000000000000000000", "KeyDescriptorType": "2", "KeyLength": "16", "ReplayCounter": "1"}},
	// tshark: 02:00:00:00:00:01 → 02:00:00:00:00:02 EAPOL 75 Key
	{name: "Key", link: layers.LinkTypeEthernet,
		hex:  "020000000002020000000001888e0203 003901000d0000405fd4d41d9b000000 00000000000000000000000000820000 00000000000000000000000000002c2d 2e2f303132333435363738",
		want: map[string]string{"IV": "00000000000000000000000000000000", "KeyDescriptorType": "1", "KeyIndex": "2", "KeyLength": "13", "ReplayCounter": "70780336741787"}},
}

func TestEAPOLKeyRSNFields(t *testing.T) {
	k := eapolKeySeeds()[0]
	frame := cat(ethHeader(0x888e), []byte{2, 3, 0, byte(len(k))}, k)
	r := one[*types.EAPOLKey](t, decodeOne(t, frame, layers.LinkTypeEthernet), types.Type_NC_EAPOLKey)
	// key information 0x008a: descriptor version 2, pairwise (bit 3), ACK (bit 7)
	if r.KeyDescriptorType != 2 || r.KeyDescriptorVersion != 2 || r.KeyType != 1 || !r.KeyACK || r.KeyMIC || r.Install ||
		r.KeyLength != 16 || r.ReplayCounter != 1 || len(r.Nonce) != 32 || r.Nonce[0] != 13 || r.KeyDataLength != 0 {
		t.Errorf("RSN key message 1: %v", r)
	}
}

// eapolKeySeeds are an 802.11 RSN key descriptor (message 1 of the 4-way
// handshake) and an 802.1X-2001 RC4 key descriptor.
func eapolKeySeeds() [][]byte {
	rsn := make([]byte, 95)
	rsn[0] = 2
	binary.BigEndian.PutUint16(rsn[1:], 0x008a) // version 2, pairwise, ACK
	binary.BigEndian.PutUint16(rsn[3:], 16)
	binary.BigEndian.PutUint64(rsn[5:], 1)
	for i := 13; i < 45; i++ {
		rsn[i] = byte(i) // nonce
	}
	rc4 := make([]byte, eapolRC4Len+13)
	rc4[0] = 1
	binary.BigEndian.PutUint16(rc4[1:], 13)
	binary.BigEndian.PutUint64(rc4[3:], 0x405fd4d41d9b)
	rc4[27] = 0x82 // unicast, index 2
	for i := eapolRC4Len; i < len(rc4); i++ {
		rc4[i] = byte(i)
	}
	return [][]byte{rsn, rc4}
}
