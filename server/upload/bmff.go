package upload

import (
	"encoding/binary"
	"errors"
)

// ISO base media file format (ISO/IEC 14496-12): the container of HEIC/HEIF images and of M4A
// audio. Only what detection and metadata removal need: walking boxes and a few box payloads.

var errBadBox = errors.New("malformed ISO-BMFF box")

type bmffBox struct {
	typ        string
	start, end int // the whole box within the file
	body       int // where the payload starts (after size, type, largesize, uuid)
}

// boxes lists the boxes laid end to end in b[off:end].
func boxes(b []byte, off, end int) ([]bmffBox, error) {
	var out []bmffBox
	for off < end {
		if end-off < 8 {
			return nil, errBadBox
		}
		size := int64(binary.BigEndian.Uint32(b[off:]))
		typ := string(b[off+4 : off+8])
		hdr := 8
		switch size {
		case 0: // to the end of the enclosing space
			size = int64(end - off)
		case 1:
			if end-off < 16 {
				return nil, errBadBox
			}
			large := binary.BigEndian.Uint64(b[off+8:])
			if large > uint64(end-off) {
				return nil, errBadBox
			}
			size, hdr = int64(large), 16
		}
		if typ == "uuid" {
			hdr += 16
		}
		if size < int64(hdr) || size > int64(end-off) {
			return nil, errBadBox
		}
		out = append(out, bmffBox{typ: typ, start: off, end: off + int(size), body: off + hdr})
		off += int(size)
	}
	return out, nil
}

func findBox(bs []bmffBox, typ string) (bmffBox, bool) {
	for _, x := range bs {
		if x.typ == typ {
			return x, true
		}
	}
	return bmffBox{}, false
}

// children lists the boxes inside a container box; full boxes (meta, iinf…) skip their version and
// flags first.
func children(b []byte, parent bmffBox, full bool) ([]bmffBox, error) {
	off := parent.body
	if full {
		off += 4
	}
	if off > parent.end {
		return nil, errBadBox
	}
	return boxes(b, off, parent.end)
}

// ftypBrands returns the major brand and the compatible brands of a file that starts with an ftyp
// box; ok is false otherwise.
func ftypBrands(b []byte) (major string, compatible []string, ok bool) {
	if len(b) < 16 || string(b[4:8]) != "ftyp" {
		return "", nil, false
	}
	size := int(binary.BigEndian.Uint32(b))
	if size < 16 || size > len(b) || size%4 != 0 {
		return "", nil, false
	}
	major = string(b[8:12])
	for off := 16; off+4 <= size; off += 4 {
		compatible = append(compatible, string(b[off:off+4]))
	}
	return major, compatible, true
}

// trackHandlers returns the handler types ("soun", "vide"…) of the tracks in the movie box.
func trackHandlers(b []byte) ([]string, error) {
	top, err := boxes(b, 0, len(b))
	if err != nil {
		return nil, err
	}
	moov, ok := findBox(top, "moov")
	if !ok {
		return nil, errBadBox
	}
	inMoov, err := children(b, moov, false)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, trak := range inMoov {
		if trak.typ != "trak" {
			continue
		}
		inTrak, err := children(b, trak, false)
		if err != nil {
			return nil, err
		}
		mdia, ok := findBox(inTrak, "mdia")
		if !ok {
			return nil, errBadBox
		}
		inMdia, err := children(b, mdia, false)
		if err != nil {
			return nil, err
		}
		hdlr, ok := findBox(inMdia, "hdlr")
		// version/flags (4), pre_defined (4), handler_type (4)
		if !ok || hdlr.end-hdlr.body < 12 {
			return nil, errBadBox
		}
		out = append(out, string(b[hdlr.body+8:hdlr.body+12]))
	}
	return out, nil
}

// heifMetadataExtents finds the bytes of the Exif items and XMP items (mime items of type
// application/rdf+xml) of a HEIF file through its meta box: item types from iinf, locations from
// iloc. Each extent is a [start, end) range of b.
func heifMetadataExtents(b []byte) ([][2]int, error) {
	top, err := boxes(b, 0, len(b))
	if err != nil {
		return nil, err
	}
	meta, ok := findBox(top, "meta")
	if !ok {
		return nil, errBadBox
	}
	inMeta, err := children(b, meta, true)
	if err != nil {
		return nil, err
	}
	iinf, ok := findBox(inMeta, "iinf")
	if !ok {
		return nil, errBadBox
	}
	targets, err := metadataItems(b, iinf)
	if err != nil || len(targets) == 0 {
		return nil, err
	}
	iloc, ok := findBox(inMeta, "iloc")
	if !ok {
		return nil, errBadBox
	}
	idatStart, idatEnd := -1, -1
	if idat, ok := findBox(inMeta, "idat"); ok {
		idatStart, idatEnd = idat.body, idat.end
	}
	return itemExtents(b, iloc, targets, idatStart, idatEnd)
}

// metadataItems returns the ids of Exif and XMP items listed in iinf.
func metadataItems(b []byte, iinf bmffBox) (map[uint32]bool, error) {
	r := reader{b: b, off: iinf.body, end: iinf.end}
	version := r.u8()
	r.skip(3)
	if version == 0 {
		r.u16()
	} else {
		r.u32()
	}
	if r.err {
		return nil, errBadBox
	}
	entries, err := boxes(b, r.off, iinf.end)
	if err != nil {
		return nil, err
	}
	out := map[uint32]bool{}
	for _, infe := range entries {
		if infe.typ != "infe" {
			continue
		}
		e := reader{b: b, off: infe.body, end: infe.end}
		v := e.u8()
		e.skip(3)
		if v < 2 {
			// Versions 0 and 1 carry no item type; HEIF requires version 2 or 3 (ISO/IEC 23008-12).
			return nil, errBadBox
		}
		var id uint32
		if v == 2 {
			id = uint32(e.u16())
		} else {
			id = e.u32()
		}
		e.u16() // item_protection_index
		typ := e.bytes(4)
		if e.err {
			return nil, errBadBox
		}
		switch string(typ) {
		case "Exif":
			out[id] = true
		case "mime":
			e.cstring() // item_name
			if ct := e.cstring(); ct == "application/rdf+xml" {
				out[id] = true
			}
		}
	}
	return out, nil
}

// itemExtents reads iloc and returns the file ranges of the wanted items. Items stored by
// reference to other items (construction method 2) or in other files are refused: their bytes
// cannot be found, so they cannot be cleared.
func itemExtents(b []byte, iloc bmffBox, want map[uint32]bool, idatStart, idatEnd int) ([][2]int, error) {
	r := reader{b: b, off: iloc.body, end: iloc.end}
	version := r.u8()
	r.skip(3)
	sizes := r.u8()
	offsetSize, lengthSize := int(sizes>>4), int(sizes&0x0f)
	sizes = r.u8()
	baseOffsetSize, indexSize := int(sizes>>4), 0
	if version == 1 || version == 2 {
		indexSize = int(sizes & 0x0f)
	}
	var count uint32
	if version < 2 {
		count = uint32(r.u16())
	} else {
		count = r.u32()
	}
	if r.err || version > 2 {
		return nil, errBadBox
	}
	var out [][2]int
	for i := uint32(0); i < count; i++ {
		var id uint32
		if version < 2 {
			id = uint32(r.u16())
		} else {
			id = r.u32()
		}
		method := 0
		if version == 1 || version == 2 {
			method = int(r.u16() & 0x0f)
		}
		dataRef := r.u16()
		base := r.uint(baseOffsetSize)
		extents := r.u16()
		if r.err {
			return nil, errBadBox
		}
		for j := uint16(0); j < extents; j++ {
			if indexSize > 0 {
				r.uint(indexSize)
			}
			off := r.uint(offsetSize)
			length := r.uint(lengthSize)
			if r.err {
				return nil, errBadBox
			}
			if !want[id] {
				continue
			}
			if dataRef != 0 || length == 0 {
				return nil, errBadBox
			}
			start, limit := uint64(0), uint64(len(b))
			switch method {
			case 0:
			case 1:
				if idatStart < 0 {
					return nil, errBadBox
				}
				start, limit = uint64(idatStart), uint64(idatEnd)
			default:
				return nil, errBadBox
			}
			from := start + base + off
			to := from + length
			if from < start || to < from || to > limit {
				return nil, errBadBox
			}
			out = append(out, [2]int{int(from), int(to)})
		}
	}
	return out, nil
}

// reader reads big-endian fields, remembering whether it ran out of bytes.
type reader struct {
	b        []byte
	off, end int
	err      bool
}

func (r *reader) bytes(n int) []byte {
	if r.err || n < 0 || r.end-r.off < n {
		r.err = true
		return make([]byte, max(n, 0))
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *reader) skip(n int) { r.bytes(n) }
func (r *reader) u8() uint8  { return r.bytes(1)[0] }
func (r *reader) u16() uint16 {
	return binary.BigEndian.Uint16(r.bytes(2))
}
func (r *reader) u32() uint32 {
	return binary.BigEndian.Uint32(r.bytes(4))
}

// uint reads an unsigned integer of 0, 4 or 8 bytes (the field sizes iloc allows).
func (r *reader) uint(size int) uint64 {
	switch size {
	case 0:
		return 0
	case 4:
		return uint64(r.u32())
	case 8:
		return binary.BigEndian.Uint64(r.bytes(8))
	}
	r.err = true
	return 0
}

func (r *reader) cstring() string {
	for i := r.off; i < r.end; i++ {
		if r.b[i] == 0 {
			s := string(r.b[r.off:i])
			r.off = i + 1
			return s
		}
	}
	r.err = true
	return ""
}
