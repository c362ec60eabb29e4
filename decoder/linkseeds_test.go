package decoder

import "encoding/binary"

// Packets of the link-layer and discovery protocols built from their specs,
// for the fuzz targets and the tests: seeds exist without the corpus.

// overSNAP wraps b in an 802.3 frame with LLC/SNAP (oui and type).
func overSNAP(ouiType []byte) func([]byte) []byte {
	return func(b []byte) []byte {
		return cat(ethHeader(uint16(3+len(ouiType)+len(b))), []byte{0xaa, 0xaa, 0x03}, ouiType, b)
	}
}

// tlv7 is an LLDP TLV: 7 bits of type, 9 bits of length.
func tlv7(typ int, v []byte) []byte {
	h := uint16(typ)<<9 | uint16(len(v))
	return cat([]byte{byte(h >> 8), byte(h)}, v)
}

// lldpSeed is an LLDPDU with the mandatory TLVs and one of each decoded
// optional TLV.
func lldpSeed() []byte {
	return cat(
		tlv7(1, cat([]byte{4}, macA)),
		tlv7(2, []byte("\x05eth0")),
		tlv7(3, []byte{0, 120}),
		tlv7(4, []byte("uplink")),
		tlv7(5, []byte("switch1")),
		tlv7(6, []byte("a switch")),
		tlv7(7, []byte{0, 0x14, 0, 0x04}),
		tlv7(8, cat([]byte{5, 1}, ip4A.To4(), []byte{2, 0, 0, 0, 7, 0})),
		tlv7(127, []byte{0x00, 0x80, 0xc2, 0x01, 0x00, 0x05}),
		tlv7(9, []byte{1, 2}), // reserved type: an unknown TLV
		tlv7(0, nil),
	)
}

// cdpTLV is a CDP TLV; its length counts the 4-byte header.
func cdpTLV(typ uint16, v []byte) []byte {
	b := make([]byte, 4, 4+len(v))
	binary.BigEndian.PutUint16(b, typ)
	binary.BigEndian.PutUint16(b[2:], uint16(4+len(v)))
	return append(b, v...)
}

// cdpSeed is a CDPv2 frame with the common TLVs.
func cdpSeed() []byte {
	return cat([]byte{2, 180, 0, 0},
		cdpTLV(1, []byte("S1")),
		cdpTLV(2, cat([]byte{0, 0, 0, 1, 1, 1, 0xcc, 0, 4}, ip4A.To4())),
		cdpTLV(3, []byte("FastEthernet0/1")),
		cdpTLV(4, []byte{0, 0, 0, 0x28}),
		cdpTLV(5, []byte("IOS 12.2")),
		cdpTLV(6, []byte("cisco WS-C3560")),
		cdpTLV(9, []byte("vtp")),
		cdpTLV(10, []byte{0, 1}),
		cdpTLV(11, []byte{1}),
	)
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

// usbSeed is a usbmon event: a control setup submission (with the setup
// packet GET_DESCRIPTOR) or a bulk completion with 4 bytes of data; the
// header is 48 bytes, or 64 with mmapped.
func usbSeed(mmapped, setup bool) []byte {
	n := 48
	if mmapped {
		n = 64
	}
	b := make([]byte, n)
	le := binary.LittleEndian
	le.PutUint64(b, 0xffff88003b1c5e40)
	b[8], b[9], b[10], b[11] = 'S', 2, 0x80, 3
	le.PutUint16(b[12:], 1)
	b[14], b[15] = 0, '<'
	le.PutUint64(b[16:], 1700000000)
	le.PutUint32(b[24:], 123456)
	le.PutUint32(b[28:], 0xffffff8d) // -EINPROGRESS
	le.PutUint32(b[32:], 18)
	copy(b[40:], []byte{0x80, 6, 0, 1, 0, 0, 0x12, 0})
	if mmapped {
		le.PutUint32(b[48:], 0)
		le.PutUint32(b[56:], 0x200)
	}
	if !setup {
		b[8], b[9], b[10], b[14], b[15] = 'C', 3, 0x81, '-', 0
		le.PutUint32(b[28:], 0)
		le.PutUint32(b[32:], 4)
		le.PutUint32(b[36:], 4)
		clear(b[40:48])
		b = append(b, 1, 2, 3, 4)
	}
	return b
}

// lcmSeeds are a short LCM message and the first fragment of a long one.
func lcmSeeds() [][]byte {
	short := cat([]byte("LC02"), []byte{0, 0, 0, 9}, []byte("POSE\x00"), []byte{1, 2, 3, 4, 5, 6, 7, 8, 42})
	frag := cat([]byte("LC03"), []byte{0, 0, 0, 10}, []byte{0, 0, 0x10, 0}, []byte{0, 0, 0, 0}, []byte{0, 0, 0, 3},
		[]byte("CAMERA\x00"), []byte{9, 9, 9, 9, 9, 9, 9, 9})
	return [][]byte{short, frag}
}

// dot11Header is an 802.11 header: frame control, duration, addresses and
// sequence control (for management and data frames).
func dot11Header(fc0, flags byte, addrs int, seq uint16) []byte {
	b := []byte{fc0, flags, 0x2c, 0x00}
	for i := 0; i < addrs && i < 3; i++ {
		b = append(b, []byte{0x02, 0, 0, 0, 0, byte(i + 1)}...)
	}
	if addrs >= 3 {
		b = append(b, byte(seq<<4), byte(seq>>4))
	}
	if addrs == 4 {
		b = append(b, []byte{0x02, 0, 0, 0, 0, 4}...)
	}
	return b
}

// llcIPv4UDP is LLC/SNAP carrying an IPv4/UDP datagram.
func llcIPv4UDP() []byte {
	return cat([]byte{0xaa, 0xaa, 3, 0, 0, 0, 8, 0}, ipv4Header(17, 12), udpHeader(5000, 9999, 4), []byte("abcd"))
}

// dot11Seeds are bare 802.11 frames (no FCS): a QoS data frame to the
// AP with IP inside, the same with an HT control field, a data frame
// between two APs (four addresses), a beacon and a CTS.
func dot11Seeds() [][]byte {
	return [][]byte{
		cat(dot11Header(0x88, 0x01, 3, 100), []byte{0x05, 0x00}, llcIPv4UDP()),
		cat(dot11Header(0x88, 0x81, 3, 101), []byte{0x26, 0x01}, []byte{0x38, 0x0b, 0x4d, 0x61}, llcIPv4UDP()),
		cat(dot11Header(0x08, 0x03, 4, 7), llcIPv4UDP()),
		cat(dot11Header(0x80, 0x00, 3, 1), make([]byte, 12), []byte{0, 4}, []byte("wifi")),
		{0xc4, 0x00, 0x10, 0x00, 0x02, 0, 0, 0, 0, 9},
	}
}
