package domain

import (
	"fmt"
	"math"
	"reflect"

	"github.com/vmihailenco/msgpack/v5"
)

// MessagePack integer type codes (the format's spec).
const (
	codeUint64 = 0xcf
	codeInt8   = 0xd0
	codeInt64  = 0xd3 // int16 and int32 lie between
	// Negative fixints are 0xe0..0xff.
	codeNegativeFixint = 0xe0
)

// The MessagePack library converts integers between signed and unsigned
// Go fields by wrapping: 2^64-1 sent for an int64 arrives as -1, and -1 sent
// for a uint64 arrives as 2^64-1. encoding/json refuses both. These decoders
// make MessagePack refuse them too, so a number out of its field's range is
// a bad_request in either encoding.
func init() {
	msgpack.Register(int64(0), nil, decodeSignedValue)
	msgpack.Register(int(0), nil, decodeSignedValue)
	msgpack.Register(uint64(0), nil, decodeUnsignedValue)
	msgpack.Register(uint(0), nil, decodeUnsignedValue)
}

// isNegativeCode reports whether a MessagePack integer code can carry a
// negative value (negative fixint, int8..int64).
func isNegativeCode(c byte) bool {
	return c >= codeNegativeFixint || c >= codeInt8 && c <= codeInt64
}

func decodeSignedValue(dec *msgpack.Decoder, v reflect.Value) error {
	c, err := dec.PeekCode()
	if err != nil {
		return err
	}
	if c == codeUint64 {
		n, err := dec.DecodeUint64()
		if err != nil {
			return err
		}
		if n > math.MaxInt64 {
			return fmt.Errorf("number %d overflows %s", n, v.Type())
		}
		v.SetInt(int64(n))
		return nil
	}
	n, err := dec.DecodeInt64()
	if err != nil {
		return err
	}
	v.SetInt(n)
	return nil
}

func decodeUnsignedValue(dec *msgpack.Decoder, v reflect.Value) error {
	c, err := dec.PeekCode()
	if err != nil {
		return err
	}
	if isNegativeCode(c) {
		n, err := dec.DecodeInt64()
		if err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("number %d is negative, %s is not", n, v.Type())
		}
		v.SetUint(uint64(n))
		return nil
	}
	n, err := dec.DecodeUint64()
	if err != nil {
		return err
	}
	v.SetUint(n)
	return nil
}
