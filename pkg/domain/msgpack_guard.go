package domain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// maxNesting bounds how deep maps and arrays may nest in outside input.
const maxNesting = 32

// checkMsgpack walks one MessagePack value and checks that it is well formed
// before any decoder sees it: every length prefix fits the bytes that remain,
// nesting stays under maxNesting, nothing trails.
//
// This is what makes decoding outside input safe. vmihailenco/msgpack v5.4.x
// allocates whatever a length prefix claims before reading the data, so the
// five bytes dd ff ff ff ff (an array of 4 billion elements) would make it
// allocate tens of gigabytes and kill the process. After this walk every
// claimed length is bounded by the input's own size.
func checkMsgpack(b []byte) error { return walkMsgpack(b, false) }

// checkMsgpackInput is checkMsgpack for outside input, which must also be
// text where it is text: every string (and every binary value, which the
// decoder would read into a string) must be valid UTF-8, as JSON input must
// (errInvalidUTF8 otherwise). Stored data is read with checkMsgpack, so
// what was stored before this rule still reads.
func checkMsgpackInput(b []byte) error { return walkMsgpack(b, true) }

// errInvalidUTF8 is text that is not valid UTF-8 in outside input.
var errInvalidUTF8 = errors.New("a string is not valid UTF-8")

func walkMsgpack(b []byte, text bool) error {
	end, err := skipMsgpack(b, 0, 0, text)
	if err != nil {
		return err
	}
	if end != len(b) {
		return fmt.Errorf("msgpack: %d trailing bytes after the value", len(b)-end)
	}
	return nil
}

// skipMsgpack returns the offset just past the value starting at pos;
// with text, strings and binary values must be valid UTF-8.
func skipMsgpack(b []byte, pos, depth int, text bool) (int, error) {
	if pos >= len(b) {
		return 0, fmt.Errorf("msgpack: unexpected end of input at byte %d", pos)
	}
	c := b[pos]
	pos++
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3: // fixint, nil, bool
		return pos, nil
	case c >= 0xa0 && c <= 0xbf: // fixstr
		return skipText(b, pos, int(c&0x1f), text)
	case c >= 0x90 && c <= 0x9f: // fixarray
		return skipItems(b, pos, int(c&0x0f), depth, text)
	case c >= 0x80 && c <= 0x8f: // fixmap
		return skipItems(b, pos, 2*int(c&0x0f), depth, text)
	}
	switch c {
	case 0xcc, 0xd0: // uint8, int8
		return skipBytes(b, pos, 1)
	case 0xcd, 0xd1:
		return skipBytes(b, pos, 2)
	case 0xce, 0xd2, 0xca: // 32-bit ints, float32
		return skipBytes(b, pos, 4)
	case 0xcf, 0xd3, 0xcb:
		return skipBytes(b, pos, 8)
	case 0xd9, 0xc4: // str8, bin8
		n, pos, err := readLength(b, pos, 1)
		if err != nil {
			return 0, err
		}
		return skipText(b, pos, n, text)
	case 0xda, 0xc5:
		n, pos, err := readLength(b, pos, 2)
		if err != nil {
			return 0, err
		}
		return skipText(b, pos, n, text)
	case 0xdb, 0xc6:
		n, pos, err := readLength(b, pos, 4)
		if err != nil {
			return 0, err
		}
		return skipText(b, pos, n, text)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1..16: a type byte and 2^n data bytes
		return skipBytes(b, pos, 1+1<<(c-0xd4))
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32: length, type byte, data
		n, pos, err := readLength(b, pos, 1<<(c-0xc7))
		if err != nil {
			return 0, err
		}
		return skipBytes(b, pos, n+1)
	case 0xdc, 0xdd: // array16, array32
		n, pos, err := readLength(b, pos, 2+2*int(c-0xdc))
		if err != nil {
			return 0, err
		}
		return skipItems(b, pos, n, depth, text)
	case 0xde, 0xdf: // map16, map32
		n, pos, err := readLength(b, pos, 2+2*int(c-0xde))
		if err != nil {
			return 0, err
		}
		return skipItems(b, pos, 2*n, depth, text)
	}
	return 0, fmt.Errorf("msgpack: type code 0x%02x is not accepted", c)
}

func readLength(b []byte, pos, width int) (int, int, error) {
	if len(b)-pos < width {
		return 0, 0, fmt.Errorf("msgpack: truncated length at byte %d", pos)
	}
	var n uint64
	switch width {
	case 1:
		n = uint64(b[pos])
	case 2:
		n = uint64(binary.BigEndian.Uint16(b[pos:]))
	default:
		n = uint64(binary.BigEndian.Uint32(b[pos:]))
	}
	return int(n), pos + width, nil
}

// skipText skips a string or binary value of n bytes, checking that it is
// valid UTF-8 when text is asked for.
func skipText(b []byte, pos, n int, text bool) (int, error) {
	end, err := skipBytes(b, pos, n)
	if err == nil && text && !utf8.Valid(b[pos:end]) {
		return 0, errInvalidUTF8
	}
	return end, err
}

func skipBytes(b []byte, pos, n int) (int, error) {
	if n > len(b)-pos {
		return 0, fmt.Errorf("msgpack: length %d at byte %d exceeds the %d bytes left", n, pos, len(b)-pos)
	}
	return pos + n, nil
}

// skipItems skips n values. Every value takes at least one byte, so a count
// larger than the bytes left is rejected before anything is walked.
func skipItems(b []byte, pos, n, depth int, text bool) (int, error) {
	if depth+1 > maxNesting {
		return 0, fmt.Errorf("msgpack: nesting deeper than %d", maxNesting)
	}
	if n > len(b)-pos {
		return 0, fmt.Errorf("msgpack: %d items at byte %d exceed the %d bytes left", n, pos, len(b)-pos)
	}
	var err error
	for range n {
		if pos, err = skipMsgpack(b, pos, depth+1, text); err != nil {
			return 0, err
		}
	}
	return pos, nil
}
