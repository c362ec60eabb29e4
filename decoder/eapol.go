package decoder

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netcap/netcap/types"
)

// EAPOL (IEEE 802.1X, EtherType 0x888e) headers and their key messages.
func init() {
	Register(Protocol{
		Name: "EAPOL", Layer: layers.LayerTypeEAPOL, Records: []types.Type{types.Type_NC_EAPOL},
		Description: "EAP over LAN (802.1X) headers",
		NewDecoder:  func() Decoder { return &eapolDecoder{} },
	}, func() gopacket.DecodingLayer { return &layers.EAPOL{} })
	Register(Protocol{
		Name: "EAPOLKey", Layer: layers.LayerTypeEAPOLKey, Records: []types.Type{types.Type_NC_EAPOLKey},
		Description: "EAPOL key messages (802.11 RSN/WPA and legacy RC4 key descriptors)",
		NewDecoder:  func() Decoder { return &eapolKeyDecoder{} },
	}, func() gopacket.DecodingLayer { return &eapolKeyLayer{} })
}

type eapolDecoder struct{ r types.EAPOL }

func (d *eapolDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	e := l.(*layers.EAPOL)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.Version = int32(e.Version)
	r.Type = int32(e.Type)
	r.Length = int32(e.Length)
	s.Emit(types.Type_NC_EAPOL, r)
}

// eapolKeyLayer is gopacket's EAPOLKey (the 802.11 key descriptor, types 2
// and 254) plus the RC4 key descriptor of 802.1X-2001 (type 1), which
// gopacket reads with the 802.11 layout. The key data ends the chain.
type eapolKeyLayer struct{ layers.EAPOLKey }

// eapolRC4Len is the RC4 descriptor without its key: type, key length,
// replay counter, IV, index and signature.
const eapolRC4Len = 1 + 2 + 8 + 16 + 1 + 16

func (k *eapolKeyLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) == 0 || layers.EAPOLKeyDescriptorType(data[0]) != layers.EAPOLKeyDescriptorTypeRC4 {
		return k.EAPOLKey.DecodeFromBytes(data, df)
	}
	k.EAPOLKey = layers.EAPOLKey{}
	if len(data) < eapolRC4Len {
		df.SetTruncated()
		return fmt.Errorf("%d bytes, an RC4 key descriptor has at least %d", len(data), eapolRC4Len)
	}
	k.KeyDescriptorType = layers.EAPOLKeyDescriptorTypeRC4
	k.KeyLength = binary.BigEndian.Uint16(data[1:3])
	k.ReplayCounter = binary.BigEndian.Uint64(data[3:11])
	k.IV = data[11:27]
	k.KeyType = layers.EAPOLKeyType(data[27] >> 7) // 1: unicast key
	k.KeyIndex = data[27] & 0x7f
	k.MIC = data[28:44] // the key signature
	k.EncryptedKeyData = data[eapolRC4Len:]
	k.KeyDataLength = uint16(len(k.EncryptedKeyData))
	k.HasEncryptedKeyData = len(k.EncryptedKeyData) > 0
	k.Contents, k.Payload = data, nil
	return nil
}

func (k *eapolKeyLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeEAPOLKey }

func (k *eapolKeyLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypePayload }

type eapolKeyDecoder struct{ r types.EAPOLKey }

func (d *eapolKeyDecoder) Decode(l gopacket.DecodingLayer, p *Packet, s Sink) {
	k := l.(*eapolKeyLayer)
	r := &d.r
	r.Reset()
	r.Timestamp = p.Timestamp
	r.KeyDescriptorType = int32(k.KeyDescriptorType)
	r.KeyDescriptorVersion = int32(k.KeyDescriptorVersion)
	r.KeyType = int32(k.KeyType)
	r.KeyIndex = int32(k.KeyIndex)
	r.Install, r.KeyACK, r.KeyMIC, r.Secure = k.Install, k.KeyACK, k.KeyMIC, k.Secure
	r.MICError, r.Request, r.HasEncryptedKeyData, r.SMKMessage = k.MICError, k.Request, k.HasEncryptedKeyData, k.SMKMessage
	r.KeyLength = int32(k.KeyLength)
	r.ReplayCounter = k.ReplayCounter
	r.Nonce = k.Nonce
	r.IV = k.IV
	r.RSC = k.RSC
	r.ID = k.ID
	r.MIC = k.MIC
	r.KeyDataLength = int32(k.KeyDataLength)
	r.EncryptedKeyData = k.EncryptedKeyData
	s.Emit(types.Type_NC_EAPOLKey, r)
}
