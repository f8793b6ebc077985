package mes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Sign-in throttling: every failed sign-in counts against the name given
// (known or not, so that a name's answers tell nothing of whether it is
// an account) and against the address it came from. After Free failures
// within Window each further one makes the next attempt wait Delay,
// doubling up to MaxDelay; Lock failures within Window lock the name (or
// the address) for LockFor. An attempt too early is refused at once,
// before any password is hashed, with the time to wait (SignInError,
// HTTP 429 with Retry-After). A successful sign-in clears its name's
// failures (not its address's: one good account must not reset the count
// of an address that tries many). An account's lockout is kept in the
// records (lock/<name>, audited signin.lockout), so it outlasts a restart
// and twin users unlock can end it with the twin stopped; an address's is
// kept in memory and audited (kind source_lockout).
//
// Hashing is bounded: at most Hashing argon2id computations (64 MiB each)
// run at once; a sign-in that finds them all busy waits up to HashWait
// and is then refused (ErrSignInBusy, HTTP 503), so a flood of sign-ins queues
// instead of taking the memory of the machine.

// SignInOptions bound sign-ins; the zero value of a field is its default
// (DefaultSignInOptions).
type SignInOptions struct {
	Account Limits // per name given
	Source  Limits // per address
	// Hashing is how many passwords are hashed at once (default: half the
	// CPUs, at least 1, at most 4: each takes 64 MiB and 2 threads).
	Hashing int
	// HashWait is how long a sign-in waits for a free hashing slot before
	// it is refused with ErrSignInBusy (default 5 s).
	HashWait time.Duration
	// Tracked bounds the names and the addresses tracked at once (default
	// 10,000 each); when full, the one whose last failure is the oldest,
	// and not locked, is forgotten.
	Tracked int
	// Now is the throttle's clock (default time.Now): wall-clock time,
	// whatever clock the records keep.
	Now func() time.Time
}

// Limits are the failures a name or an address may have; the zero value
// of a field is its default.
type Limits struct {
	Free     int           // failures within Window before delays begin
	Delay    time.Duration // the wait after the first failure past Free; it doubles with each one more
	MaxDelay time.Duration // the longest wait
	Lock     int           // failures within Window that lock
	Window   time.Duration // how far back failures count
	LockFor  time.Duration // how long a lockout lasts
}

// DefaultSignInOptions: a name may fail 3 times at once, then waits 1 s,
// 2 s, 4 s … (at most 1 min) before each try, and is locked for 15 min at
// its 10th failure within 15 min; an address may fail 10 times at once,
// and is locked for 15 min at 30 (a terminal several people sign in at).
func DefaultSignInOptions(cpus int) SignInOptions {
	return SignInOptions{
		Account:  Limits{Free: 3, Delay: time.Second, MaxDelay: time.Minute, Lock: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute},
		Source:   Limits{Free: 10, Delay: time.Second, MaxDelay: time.Minute, Lock: 30, Window: 15 * time.Minute, LockFor: 15 * time.Minute},
		Hashing:  min(max(cpus/2, 1), 4),
		HashWait: 5 * time.Second,
		Tracked:  10000,
		Now:      time.Now,
	}
}

func (o SignInOptions) withDefaults(cpus int) SignInOptions {
	d := DefaultSignInOptions(cpus)
	o.Account = o.Account.withDefaults(d.Account)
	o.Source = o.Source.withDefaults(d.Source)
	if o.Hashing <= 0 {
		o.Hashing = d.Hashing
	}
	if o.HashWait <= 0 {
		o.HashWait = d.HashWait
	}
	if o.Tracked <= 0 {
		o.Tracked = d.Tracked
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	return o
}

func (l Limits) withDefaults(d Limits) Limits {
	if l.Free <= 0 {
		l.Free = d.Free
	}
	if l.Delay <= 0 {
		l.Delay = d.Delay
	}
	if l.MaxDelay <= 0 {
		l.MaxDelay = d.MaxDelay
	}
	if l.Lock <= 0 {
		l.Lock = d.Lock
	}
	if l.Window <= 0 {
		l.Window = d.Window
	}
	if l.LockFor <= 0 {
		l.LockFor = d.LockFor
	}
	return l
}

// delay is the wait after the n-th failure within the window.
func (l Limits) delay(n int) time.Duration {
	if n <= l.Free {
		return 0
	}
	d := float64(l.Delay) * math.Pow(2, float64(n-l.Free-1))
	return time.Duration(min(d, float64(l.MaxDelay)))
}

// SignInError is a sign-in refused before its password was looked at:
// too soon after failures, or locked out. The API answers 429 with
// Retry-After.
type SignInError struct {
	Who        string        // "account li" or "address 10.0.0.5"
	Locked     bool          // locked out (else a delay)
	RetryAfter time.Duration // when to try again
}

func (e *SignInError) Error() string {
	wait := e.RetryAfter.Round(time.Second)
	if wait < time.Second {
		wait = time.Second
	}
	if e.Locked {
		return fmt.Sprintf("too many failed sign-ins: %s is locked for %v (an admin can unlock it: POST /api/v1/users/{name}/unlock, twin users unlock)", e.Who, wait)
	}
	return fmt.Sprintf("too many failed sign-ins for %s: try again in %v", e.Who, wait)
}

// Code is the error's code in the API's answer.
func (e *SignInError) Code() string {
	if e.Locked {
		return "signin_locked"
	}
	return "signin_throttled"
}

// Args are what the code's message needs: who, and the seconds to wait.
func (e *SignInError) Args() map[string]any {
	return map[string]any{"who": e.Who, "retry_after": int(math.Ceil(e.RetryAfter.Seconds()))}
}

// ErrSignInBusy is a sign-in (or a password change) that found every hashing
// slot busy for SignInOptions.HashWait: the API answers 503.
var ErrSignInBusy = errors.New("mes: too many sign-ins at once: try again in a few seconds")

// tracker counts the failures of names or of addresses.
type tracker struct {
	lim Limits
	max int
	m   map[string]*failures
}

type failures struct {
	at     []time.Time // within the window, oldest first
	next   time.Time   // no attempt before
	locked time.Time   // locked until
}

func newTracker(lim Limits, max int) *tracker {
	return &tracker{lim: lim, max: max, m: map[string]*failures{}}
}

// wait is how long key must wait before its next attempt, and whether it
// is locked.
func (t *tracker) wait(key string, now time.Time) (time.Duration, bool) {
	f := t.m[key]
	switch {
	case f == nil:
		return 0, false
	case now.Before(f.locked):
		return f.locked.Sub(now), true
	case now.Before(f.next):
		return f.next.Sub(now), false
	}
	return 0, false
}

// fail counts a failure of key: the failures within the window, and
// whether this one locked it.
func (t *tracker) fail(key string, now time.Time) (n int, locked bool) {
	f := t.m[key]
	if f == nil {
		t.makeRoom(now)
		f = &failures{}
		t.m[key] = f
	}
	cut := now.Add(-t.lim.Window)
	f.at = slices.DeleteFunc(f.at, func(at time.Time) bool { return !at.After(cut) })
	f.at = append(f.at, now)
	n = len(f.at)
	f.next = now.Add(t.lim.delay(n))
	if n >= t.lim.Lock && !now.Before(f.locked) {
		f.locked, locked = now.Add(t.lim.LockFor), true
		f.at = f.at[:0] // the lockout starts the count anew
	}
	return n, locked
}

// makeRoom forgets what no longer counts, and when still full, the key
// whose last failure is the oldest (and is not locked).
func (t *tracker) makeRoom(now time.Time) {
	if len(t.m) < t.max {
		return
	}
	cut := now.Add(-t.lim.Window)
	oldest, at := "", now
	for k, f := range t.m {
		if now.Before(f.locked) {
			continue
		}
		last := f.next
		if len(f.at) > 0 {
			last = f.at[len(f.at)-1]
		}
		if !last.After(cut) && !now.Before(f.next) {
			delete(t.m, k)
			continue
		}
		if last.Before(at) {
			oldest, at = k, last
		}
	}
	if len(t.m) >= t.max && oldest != "" {
		delete(t.m, oldest)
	}
}

// Throttled is a name or an address with failed sign-ins that still count.
type Throttled struct {
	Who      string    `json:"who" doc:"the name given, or the address"`
	Failures int       `json:"failures" doc:"failures within the window"`
	Next     time.Time `json:"next,omitzero" doc:"no sign-in before this time"`
	Locked   time.Time `json:"locked_until,omitzero" doc:"locked out until this time"`
}

func (t *tracker) list(now time.Time) []Throttled {
	var out []Throttled
	cut := now.Add(-t.lim.Window)
	for k, f := range t.m {
		n := 0
		for _, at := range f.at {
			if at.After(cut) {
				n++
			}
		}
		th := Throttled{Who: k, Failures: n}
		if now.Before(f.next) {
			th.Next = f.next
		}
		if now.Before(f.locked) {
			th.Locked = f.locked
		}
		if n > 0 || !th.Next.IsZero() || !th.Locked.IsZero() {
			out = append(out, th)
		}
	}
	slices.SortFunc(out, func(a, b Throttled) int { return b.Failures - a.Failures })
	return out
}

// signIn is the throttle and the hashing slots of a DB.
type signIn struct {
	opt  SignInOptions
	mu   sync.Mutex
	acct *tracker
	src  *tracker
	slot chan struct{} // a token per hashing slot in use
	runs atomic.Uint64 // hashes computed (each in a slot)
	// counts for Stats
	failures, refused, busy, lockouts, srcLockouts atomic.Uint64
}

// SignInStats are the counts of a DB's sign-ins since it opened (for
// /metrics).
type SignInStats struct {
	Failures       uint64 // wrong name or password (a disabled account's too)
	Refused        uint64 // refused before the password was looked at: too early, or locked out (429)
	Busy           uint64 // refused with every hashing slot busy (503)
	Lockouts       uint64 // accounts locked
	SourceLockouts uint64 // addresses locked
	Hashes         uint64 // passwords hashed or checked (argon2id runs)
	Hashing        int    // hashing slots in use now
}

// SignInStats returns the counts of sign-ins since the DB opened.
func (d *DB) SignInStats() SignInStats {
	s := d.signin
	return SignInStats{Failures: s.failures.Load(), Refused: s.refused.Load(), Busy: s.busy.Load(),
		Lockouts: s.lockouts.Load(), SourceLockouts: s.srcLockouts.Load(), Hashes: s.runs.Load(), Hashing: len(s.slot)}
}

func newSignIn(opt SignInOptions) *signIn {
	return &signIn{opt: opt, acct: newTracker(opt.Account, opt.Tracked), src: newTracker(opt.Source, opt.Tracked),
		slot: make(chan struct{}, opt.Hashing)}
}

// allow refuses an attempt of name from source that comes too early.
func (s *signIn) allow(name, source string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	wa, la := s.acct.wait(name, now)
	ws, ls := s.src.wait(source, now)
	switch {
	case la || ls:
		if la && (!ls || wa >= ws) {
			return &SignInError{Who: "account " + name, Locked: true, RetryAfter: wa}
		}
		return &SignInError{Who: "address " + source, Locked: true, RetryAfter: ws}
	case wa > 0 && wa >= ws:
		return &SignInError{Who: "account " + name, RetryAfter: wa}
	case ws > 0:
		return &SignInError{Who: "address " + source, RetryAfter: ws}
	}
	return nil
}

// failed counts a failure of name from source.
func (s *signIn) failed(name, source string, now time.Time) (na, ns int, lockedA, lockedS bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.Add(1)
	na, lockedA = s.acct.fail(name, now)
	if source != "" {
		ns, lockedS = s.src.fail(source, now)
	}
	if lockedA {
		s.lockouts.Add(1)
	}
	if lockedS {
		s.srcLockouts.Add(1)
	}
	return
}

// allowSource refuses an attempt from source that comes too early (a
// sign-in with a token: no name to count against).
func (s *signIn) allowSource(source string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, locked := s.src.wait(source, now); w > 0 {
		return &SignInError{Who: "address " + source, Locked: locked, RetryAfter: w}
	}
	return nil
}

// failedSource counts a failure from source (a token that does not sign
// in).
func (s *signIn) failedSource(source string, now time.Time) (n int, locked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.Add(1)
	n, locked = s.src.fail(source, now)
	if locked {
		s.srcLockouts.Add(1)
	}
	return n, locked
}

// succeeded clears name's failures.
func (s *signIn) succeeded(name string) {
	s.mu.Lock()
	delete(s.acct.m, name)
	s.mu.Unlock()
}

// clear forgets name's failures and lockout, and says how many failures
// counted and whether it was locked.
func (s *signIn) clear(name string, now time.Time) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.acct.m[name]
	if f == nil {
		return 0, false
	}
	delete(s.acct.m, name)
	return len(f.at), now.Before(f.locked)
}

// hashing runs fn in a hashing slot, waiting for one up to HashWait.
func (s *signIn) hashing(ctx context.Context, fn func()) error {
	t := time.NewTimer(s.opt.HashWait)
	defer t.Stop()
	select {
	case s.slot <- struct{}{}:
	case <-t.C:
		s.busy.Add(1)
		return ErrSignInBusy
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.slot }()
	s.runs.Add(1)
	fn()
	return nil
}
