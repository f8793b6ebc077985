package mes

import (
	"embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The password policy: what a new password must be. It applies when a
// password is set (an account made, a password changed); a password set
// before keeps working.
const (
	// MinPassword is the shortest password, in characters: a few words
	// make a good one ("blue motor on line two").
	MinPassword = 12
	// MaxPassword is the longest (argon2id reads any length; the bound
	// keeps requests small).
	MaxPassword = 256
	// minDistinct is the fewest different characters ("aaaaaaaaaaaa",
	// "121212121212" are refused).
	minDistinct = 5
)

//go:embed denylist/*.txt
var denyFiles embed.FS

// denied is the deny-list of common passwords (denylist/LICENSE.md), in
// lower case.
var denied = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	files, _ := denyFiles.ReadDir("denylist")
	for _, f := range files {
		b, _ := denyFiles.ReadFile("denylist/" + f.Name())
		for line := range strings.SplitSeq(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				m[strings.ToLower(line)] = true
			}
		}
	}
	return m
})

// sequences are the runs people type for a password: a password that is
// a stretch of one of them (repeated) is refused.
var sequences = []string{"0123456789", "9876543210", "abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba",
	"qwertyuiop", "poiuytrewq", "asdfghjkl", "lkjhgfdsa", "zxcvbnm", "mnbvcxz", "1qaz2wsx3edc4rfv5tgb", "qazwsxedcrfvtgbyhn"}

// CheckPassword tells whether pw may be the new password of the account
// name: at least MinPassword characters and at most MaxPassword, not the
// name, not a common password (the deny-list, also with digits or
// symbols before or after it: "password2024!"), not a keyboard or
// number run ("1234567890ab" is; "qwertyuiop12" too), with at least 5
// different characters. The error names the field "password".
func CheckPassword(name, pw string) error { return checkNewPassword("password", name, pw) }

func checkNewPassword(field, name, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPassword:
		return FieldErr(field, "at least %d characters (a few words make a good one: \"blue motor on line two\")", MinPassword)
	case n > MaxPassword:
		return FieldErr(field, "at most %d characters", MaxPassword)
	case strings.TrimSpace(pw) != pw:
		return FieldErr(field, "starts or ends with a space")
	}
	distinct := map[rune]bool{}
	for _, r := range pw {
		distinct[unicode.ToLower(r)] = true
	}
	if len(distinct) < minDistinct {
		return FieldErr(field, "uses only %d different characters: use at least %d", len(distinct), minDistinct)
	}
	low := strings.ToLower(pw)
	name = strings.ToLower(name)
	for _, root := range roots(low) {
		switch {
		case name != "" && root == name:
			return FieldErr(field, "is the account's name: choose another")
		case denied()[root]:
			return FieldErr(field, "is one of the most common passwords (or one with digits added): choose another")
		case isSequence(root):
			return FieldErr(field, "is a run of the keyboard or of numbers: choose another")
		}
	}
	return nil
}

// roots are pw, and pw without the digits and symbols at its start, at
// its end and at both ("2024password!" → "password").
func roots(pw string) []string {
	trim := func(r rune) bool { return !unicode.IsLetter(r) }
	out := []string{pw}
	for _, s := range []string{strings.TrimRightFunc(pw, trim), strings.TrimLeftFunc(pw, trim), strings.TrimFunc(pw, trim)} {
		if s != "" && s != pw {
			out = append(out, s)
		}
	}
	return out
}

// isSequence tells whether s is a stretch of one of the sequences, or of
// one repeated ("1234567890123").
func isSequence(s string) bool {
	if len(s) < 4 {
		return false
	}
	for _, q := range sequences {
		if strings.Contains(strings.Repeat(q, 1+len(s)/len(q)+1), s) {
			return true
		}
	}
	return false
}
