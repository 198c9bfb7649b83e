package upload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
)

// Removing location metadata. Photos taken on a phone carry GPS coordinates in Exif (and sometimes
// XMP); an instructor's photo of a household or a dispute must not reveal where it was taken to
// everyone who can see it. Each format is rewritten at the byte level, keeping the image data as it
// is (no re-encoding, no loss):
//
//   - JPEG: every APP1 segment (Exif and XMP), APP13 (Photoshop/IPTC), COM and the MPF index are
//     dropped, and so is anything after EOI (MPF and "motion photo" trailers are whole JPEGs with
//     their own Exif). The Exif orientation is kept — phones store portrait photos sideways and
//     rely on it — by writing a new minimal Exif segment holding that one tag and nothing else.
//   - PNG: eXIf and all text chunks (tEXt, zTXt, iTXt: XMP lives in iTXt, and ImageMagick keeps
//     whole Exif blocks in "Raw profile" text chunks); text never affects rendering.
//   - WebP: the EXIF and XMP chunks, with the VP8X flags and the RIFF size fixed.
//   - HEIC/HEIF: the Exif items and XMP items found through the meta box (iinf, iloc) are
//     overwritten with zeros in place, so no offset in the file changes; orientation in HEIF is the
//     irot/imir properties, which are kept. A file whose metadata cannot be located this way is
//     refused rather than stored with its location.
//
// Audio is stored as sent: voice notes from the recorder carry no location.

var errMalformed = errors.New("malformed image")

var pngSignature = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}

// Clean returns the file without location metadata. It may modify b.
func Clean(t Type, b []byte) ([]byte, error) {
	switch t {
	case typeJPEG:
		return cleanJPEG(b)
	case typePNG:
		return cleanPNG(b)
	case typeWebP:
		return cleanWebP(b)
	case typeHEIC, typeHEIF:
		return cleanHEIF(b)
	}
	return b, nil
}

func cleanJPEG(b []byte) ([]byte, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, errMalformed
	}
	out := make([]byte, 0, len(b))
	out = append(out, 0xFF, 0xD8)
	orientation, exifAt := 0, -1
	i := 2
	for {
		if i >= len(b) || b[i] != 0xFF {
			return nil, errMalformed
		}
		for i < len(b) && b[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(b) {
			return nil, errMalformed
		}
		m := b[i]
		i++
		switch {
		case m == 0xD9: // EOI: whatever follows is dropped
			out = append(out, 0xFF, 0xD9)
			if exifAt >= 0 && orientation >= 2 && orientation <= 8 {
				out = slices.Insert(out, exifAt, orientationSegment(orientation)...)
			}
			return out, nil
		case m >= 0xD0 && m <= 0xD7, m == 0x01: // markers without a length
			out = append(out, 0xFF, m)
			continue
		case m == 0xD8, m == 0x00:
			return nil, errMalformed
		}
		if len(b)-i < 2 {
			return nil, errMalformed
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 || len(b)-i < n {
			return nil, errMalformed
		}
		payload := b[i+2 : i+n]
		drop := false
		switch m {
		case 0xE1: // APP1: Exif, XMP, extended XMP
			if exifAt < 0 && bytes.HasPrefix(payload, []byte("Exif\x00\x00")) {
				orientation, exifAt = exifOrientation(payload[6:]), len(out)
			}
			drop = true
		case 0xED, 0xFE: // APP13 (Photoshop IRB, IPTC), COM
			drop = true
		case 0xE2: // APP2: keep ICC profiles, drop the MPF index of the trailing images
			drop = bytes.HasPrefix(payload, []byte("MPF\x00"))
		}
		if !drop {
			out = append(out, 0xFF, m)
			out = append(out, b[i:i+n]...)
		}
		i += n
		if m == 0xDA { // start of scan: entropy-coded data up to the next marker
			j := i
			for j < len(b) {
				if b[j] != 0xFF || j+1 >= len(b) {
					j++
					continue
				}
				next := b[j+1]
				if next == 0x00 || (next >= 0xD0 && next <= 0xD7) { // stuffed byte, restart marker
					j += 2
					continue
				}
				if next == 0xFF {
					j++
					continue
				}
				break
			}
			out = append(out, b[i:j]...)
			i = j
		}
	}
}

// exifOrientation reads tag 0x0112 of IFD0 from a TIFF structure; 0 when absent or unreadable.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return 0
	}
	ifd := int64(bo.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > int64(len(tiff)) {
		return 0
	}
	count := int64(bo.Uint16(tiff[ifd:]))
	for k := int64(0); k < count; k++ {
		e := ifd + 2 + k*12
		if e+12 > int64(len(tiff)) {
			return 0
		}
		if bo.Uint16(tiff[e:]) == 0x0112 && bo.Uint16(tiff[e+2:]) == 3 && bo.Uint32(tiff[e+4:]) == 1 {
			return int(bo.Uint16(tiff[e+8:]))
		}
	}
	return 0
}

// orientationSegment is an APP1 Exif segment holding only the orientation: a big-endian TIFF
// header and one IFD with one SHORT entry.
func orientationSegment(o int) []byte {
	payload := []byte("Exif\x00\x00" +
		"MM\x00\x2a\x00\x00\x00\x08" + // TIFF header, IFD0 at offset 8
		"\x00\x01" + // one entry
		"\x01\x12\x00\x03\x00\x00\x00\x01") // tag 0x0112, type SHORT, count 1
	payload = append(payload, 0, byte(o), 0, 0) // value, left-justified
	payload = append(payload, 0, 0, 0, 0)       // no next IFD
	n := len(payload) + 2
	return append([]byte{0xFF, 0xE1, byte(n >> 8), byte(n)}, payload...)
}

func cleanPNG(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, pngSignature) {
		return nil, errMalformed
	}
	out := make([]byte, 0, len(b))
	out = append(out, pngSignature...)
	for i, first := len(pngSignature), true; ; first = false {
		if len(b)-i < 12 {
			return nil, errMalformed
		}
		n := int64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		end := int64(i) + 12 + n
		if n > 1<<31-1 || end > int64(len(b)) || (first && typ != "IHDR") {
			return nil, errMalformed
		}
		switch typ {
		case "eXIf", "tEXt", "zTXt", "iTXt":
		default:
			out = append(out, b[i:end]...)
		}
		i = int(end)
		if typ == "IEND" {
			return out, nil // anything after IEND is dropped
		}
	}
}

func cleanWebP(b []byte) ([]byte, error) {
	if len(b) < 12 {
		return nil, errMalformed
	}
	end := int64(binary.LittleEndian.Uint32(b[4:])) + 8
	if end > int64(len(b)) || end < 12 {
		return nil, errMalformed
	}
	out := make([]byte, 12, end)
	copy(out, b[:12])
	vp8x := -1
	for i := int64(12); i < end; {
		if end-i < 8 {
			return nil, errMalformed
		}
		typ := string(b[i : i+4])
		n := int64(binary.LittleEndian.Uint32(b[i+4:]))
		next := i + 8 + n + n%2 // chunks are padded to an even size
		if next > end {
			if next == end+1 && n%2 == 1 { // a missing final pad byte: tolerated, added back
				next = end
			} else {
				return nil, errMalformed
			}
		}
		switch typ {
		case "EXIF", "XMP ":
		default:
			if typ == "VP8X" {
				if n < 10 {
					return nil, errMalformed
				}
				vp8x = len(out) + 8
			}
			out = append(out, b[i:next]...)
			if n%2 == 1 && int64(len(out))%2 == 1 {
				out = append(out, 0)
			}
		}
		i = next
	}
	if vp8x >= 0 {
		out[vp8x] &^= 0x08 | 0x04 // EXIF and XMP present flags
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}

func cleanHEIF(b []byte) ([]byte, error) {
	extents, err := heifMetadataExtents(b)
	if err != nil {
		return nil, err
	}
	for _, e := range extents {
		clear(b[e[0]:e[1]])
	}
	return b, nil
}
