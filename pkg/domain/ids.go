package domain

// MaxIDLength bounds every identifier. Ids become NATS subject tokens and KV
// keys, so they are restricted to a safe alphabet (UUIDs fit).
const MaxIDLength = 64

// ValidID reports whether s is a usable identifier: 1–64 characters from
// [A-Za-z0-9_-]. Dots, wildcards and spaces would change the meaning of the
// subjects and keys the id is placed in.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// checkID returns an invalid_command error naming field when id is not valid.
func checkID(field, id string) error {
	if !ValidID(id) {
		return Errorf(CodeInvalidCommand, "%s %q is not a valid id (1-64 characters of A-Z a-z 0-9 _ -)", field, id)
	}
	return nil
}
