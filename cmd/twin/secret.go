package main

import (
	"flag"
	"os"
)

// secret is a flag's value that -h never shows: its default may come
// from the environment ($TWIN_TOKEN, $TWIN_API_TOKEN) and flag's usage
// prints a default only when String is not the zero value's.
type secret string

func (s *secret) String() string     { return "" }
func (s *secret) Set(v string) error { *s = secret(v); return nil }

// secretFlag is a flag whose default is $env, never printed.
func secretFlag(fs *flag.FlagSet, name, env, usage string) *string {
	s := secret(os.Getenv(env))
	fs.Var(&s, name, usage)
	return (*string)(&s)
}
