package upload

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// Kinds of attachment.
const (
	KindImage = "image"
	KindAudio = "audio"
)

// Type is what a file's bytes say it is. The name and the Content-Type the client sent are never
// consulted: a text file renamed .jpg is still text.
type Type struct {
	Kind string
	MIME string
}

var (
	typeJPEG = Type{KindImage, "image/jpeg"}
	typePNG  = Type{KindImage, "image/png"}
	typeWebP = Type{KindImage, "image/webp"}
	typeHEIC = Type{KindImage, "image/heic"}
	typeHEIF = Type{KindImage, "image/heif"}
	typeM4A  = Type{KindAudio, "audio/mp4"}
	typeAAC  = Type{KindAudio, "audio/aac"}
	typeMP3  = Type{KindAudio, "audio/mpeg"}
)

// HEIC brands (ISO/IEC 23008-12 annex B); mif1/msf1 are the generic HEIF brands, also used by AVIF,
// which is told apart by its compatible brands.
var (
	heicBrands = []string{"heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs"}
	heifBrands = []string{"mif1", "msf1"}
	avifBrands = []string{"avif", "avis"}
	// MP4 brands an audio-only file may carry; it is accepted only if its tracks are all sound.
	mp4Brands = []string{"M4A ", "M4B ", "mp42", "mp41", "isom", "iso2", "iso4", "iso5", "iso6", "dash"}
)

// Detect recognises the image and audio formats the mini-program sends: JPEG, PNG, WebP,
// HEIC/HEIF, AAC (ADTS), M4A and MP3.
func Detect(b []byte) (Type, bool) {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return typeJPEG, true
	case bytes.HasPrefix(b, pngSignature):
		return typePNG, true
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return typeWebP, true
	case len(b) >= 10 && string(b[:3]) == "ID3":
		return detectID3(b)
	}
	if major, compatible, ok := ftypBrands(b); ok {
		return detectBMFF(b, major, compatible)
	}
	if adtsOK(b, 0) {
		return typeAAC, true
	}
	if mp3OK(b, 0) {
		return typeMP3, true
	}
	return Type{}, false
}

func detectBMFF(b []byte, major string, compatible []string) (Type, bool) {
	has := func(brands []string) bool {
		for _, x := range brands {
			if major == x || slices.Contains(compatible, x) {
				return true
			}
		}
		return false
	}
	switch {
	case slices.Contains(heicBrands, major):
		return typeHEIC, true
	case slices.Contains(heifBrands, major):
		if has(avifBrands) {
			return Type{}, false
		}
		if has(heicBrands) {
			return typeHEIC, true
		}
		return typeHEIF, true
	case has(mp4Brands):
		// An MP4 is accepted as audio only when it has sound tracks and nothing else: no video.
		handlers, err := trackHandlers(b)
		if err != nil || !slices.Contains(handlers, "soun") {
			return Type{}, false
		}
		for _, h := range handlers {
			if h != "soun" {
				return Type{}, false
			}
		}
		return typeM4A, true
	}
	return Type{}, false
}

// detectID3 looks past an ID3v2 tag for MPEG audio frames (MP3) or ADTS frames (AAC).
func detectID3(b []byte) (Type, bool) {
	if b[3] == 0xFF || b[4] == 0xFF || b[6]|b[7]|b[8]|b[9] >= 0x80 {
		return Type{}, false
	}
	size := int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9])
	off := 10 + size
	if b[5]&0x10 != 0 {
		off += 10 // footer
	}
	// Some encoders leave padding after the tag; look a little way for the first frame.
	for i := off; i < len(b) && i < off+4096; i++ {
		if b[i] != 0xFF {
			continue
		}
		if adtsOK(b, i) {
			return typeAAC, true
		}
		if mp3OK(b, i) {
			return typeMP3, true
		}
	}
	return Type{}, false
}

// adtsLen returns the length of the ADTS frame at b[i:], or 0 when there is no valid header.
func adtsLen(b []byte, i int) int {
	if len(b)-i < 7 || b[i] != 0xFF || b[i+1]&0xF6 != 0xF0 {
		return 0
	}
	if (b[i+2]>>2)&0x0F > 12 { // sampling frequency index
		return 0
	}
	n := int(b[i+3]&0x03)<<11 | int(b[i+4])<<3 | int(b[i+5]>>5)
	if n < 7 {
		return 0
	}
	return n
}

// adtsOK requires a whole valid frame and, when more bytes follow, a second frame right after it.
func adtsOK(b []byte, i int) bool {
	return framesOK(b, i, adtsLen)
}

func mp3OK(b []byte, i int) bool {
	return framesOK(b, i, mp3Len)
}

func framesOK(b []byte, i int, frameLen func([]byte, int) int) bool {
	n := frameLen(b, i)
	if n == 0 || i+n > len(b) {
		return false
	}
	if len(b)-(i+n) < 4 {
		return true // a single frame, or a few trailing bytes
	}
	return frameLen(b, i+n) > 0
}

var (
	mp3Bitrates = [2][16]int{ // kbit/s of layer III: MPEG-1, then MPEG-2 and 2.5
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
	}
	mp3Rates = [4][3]int{{11025, 12000, 8000}, {}, {22050, 24000, 16000}, {44100, 48000, 32000}}
)

// mp3Len returns the length of the MPEG audio layer III frame at b[i:], or 0 when there is no
// valid header there.
func mp3Len(b []byte, i int) int {
	if len(b)-i < 4 || b[i] != 0xFF || b[i+1]&0xE0 != 0xE0 {
		return 0
	}
	h := binary.BigEndian.Uint32(b[i:])
	version := (h >> 19) & 3 // 0 MPEG-2.5, 1 reserved, 2 MPEG-2, 3 MPEG-1
	layer := (h >> 17) & 3   // 1 is layer III
	bitrateIdx := (h >> 12) & 0x0F
	rateIdx := (h >> 10) & 3
	padding := int((h >> 9) & 1)
	if version == 1 || layer != 1 || bitrateIdx == 0 || bitrateIdx == 15 || rateIdx == 3 {
		return 0
	}
	rate := mp3Rates[version][rateIdx]
	if version == 3 {
		return 144*mp3Bitrates[0][bitrateIdx]*1000/rate + padding
	}
	return 72*mp3Bitrates[1][bitrateIdx]*1000/rate + padding
}
