package decoder

// SLIP captures (link type 8) in the tshark oracle: tshark has no SLIP
// dissector and shows the frames as data, while netcap, like tcpdump,
// reads the IP packet after the 16-byte SLIP header. Every record of such
// a frame has no tshark counterpart.

func init() {
	knownDifferences = append(knownDifferences, knownDiff{
		key: "* (extra)", when: tsOnlyData,
		why: "SLIP frames, which tshark shows as data (tcpdump reads the IP packet in them, as netcap does)",
	})
	knownUsed = append(knownUsed, 0) // sized before init functions run
}

// tsOnlyData: tshark decoded nothing of the frame but raw data.
func tsOnlyData(k *tsPacket) bool {
	data := false
	for _, p := range k.protos {
		switch p.name {
		case "geninfo", "frame", "_ws.malformed":
		case "data", "fake-field-wrapper": // PDML wraps the bytes of data as the latter
			data = true
		default:
			return false
		}
	}
	return data
}
