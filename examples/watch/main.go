// Command watch shows the many-mailbox watcher: it activates the users of
// an organization, watches their Inboxes with EWS streaming notifications
// and prints each change as it arrives, with a live count of the
// streaming connections and of the events per second.
//
//	go run ./examples/watch -demo
//
// The demo starts an embedded fake Exchange server, activates -users
// generated users and makes changes (new messages) in random mailboxes at
// -rate per second. Against a real server it takes the same flags as
// examples/checkaccess (-ews-url, -logon, $SCC_PASSWORD, -users FILE.csv
// ...) and only watches. -duration or -changes end the run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sccsync/scc/examples/internal/account"
	"github.com/sccsync/scc/examples/internal/demo"
	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

type flags struct {
	account.Flags
	demo     bool
	users    string // -demo: a number of users; otherwise a CSV file
	rate     float64
	duration time.Duration
	changes  int
	every    time.Duration // how often the live counts are printed
	bench    bool          // measure instead of printing each change
	memProf  string        // -bench: heap profile written while the watcher runs
	// opts are extra library options (tests: the fake's HTTP client).
	opts []impersonation.Option
}

func main() {
	var f flags
	flag.BoolVar(&f.demo, "demo", false, "run against an embedded fake Exchange server that makes changes in random mailboxes")
	flag.StringVar(&f.users, "users", "", "CSV file of users (Get-Mailbox | Export-Csv); with -demo: the number of generated users (default 20)")
	flag.Float64Var(&f.rate, "rate", 5, "with -demo: changes per second")
	flag.DurationVar(&f.duration, "duration", 0, "stop after this long (default: until interrupted)")
	flag.IntVar(&f.changes, "changes", 0, "stop after this many changes were printed (default: no limit)")
	flag.BoolVar(&f.bench, "bench", false, "with -demo: print no changes but, at the end, the change-to-handler latencies, the streaming connections and the watcher's heap")
	flag.StringVar(&f.memProf, "memprofile", "", "with -bench: write a heap profile to this file at the end of the watch")
	flag.DurationVar(&f.every, "stats", time.Second, "how often to print the connection and event counts")
	f.Register(flag.CommandLine)
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, f, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "watch:", err)
	}
	os.Exit(code)
}

// run returns the exit code: 0 the watch ran until its end, 1 it failed,
// 2 usage or setup error.
func run(ctx context.Context, f flags, stdout, stderr io.Writer) (int, error) {
	if f.every <= 0 {
		f.every = time.Second
	}
	if f.duration > 0 && !f.bench {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	opts := append([]impersonation.Option(nil), f.opts...)
	var o *org.Organization
	var srv *scctest.Server
	if f.demo {
		n := 20
		if f.users != "" {
			var err error
			if n, err = strconv.Atoi(f.users); err != nil || n < 1 {
				return 2, fmt.Errorf("-users %q: with -demo, want a number of users", f.users)
			}
		}
		if f.rate <= 0 {
			return 2, errors.New("-rate must be positive")
		}
		d, err := demo.Start(demo.Options{Users: n})
		if err != nil {
			return 2, err
		}
		defer d.Close()
		srv, o = d.Server, d.Org
		opts = append(opts, d.Options()...)
		fmt.Fprintf(stderr, "Demo: fake Exchange at %s, %d users, %.0f changes/s\n", srv.EWSURL(), len(o.Users), f.rate)
	} else {
		if f.users == "" {
			return 2, errors.New("need -ews-url, -logon (or -tenant and -client-id) and -users FILE.csv, or -demo; see -help")
		}
		cfg, extra, err := f.Configuration(stderr)
		if err != nil {
			return 2, err
		}
		opts = append(opts, extra...)
		o = &org.Organization{Name: "watch", Email: cfg}
		file, err := os.Open(f.users)
		if err != nil {
			return 2, err
		}
		res, err := o.ImportCSV(file)
		file.Close()
		if err != nil {
			return 2, fmt.Errorf("reading %s: %w", f.users, err)
		}
		for _, r := range res.Rejected {
			fmt.Fprintf(stderr, "%s: %v (row skipped)\n", f.users, r)
		}
	}

	// Only active users are watched: check them first.
	store := org.NewMemoryStore()
	saved, err := store.Create(ctx, o)
	if err != nil {
		return 2, err
	}
	ar, err := impersonation.Activate(ctx, store, saved.ID, opts...)
	if ar == nil {
		return 1, err
	}
	fmt.Fprintf(stderr, "Activated %d of %d users (%d failed)\n", ar.Activated+ar.Renewed+ar.Unchanged, len(o.Users), ar.Failed)
	active, err := activeUsers(ctx, store, saved.ID)
	if err != nil {
		return 1, err
	}
	if len(active) == 0 {
		return 1, errors.New("no user could be activated; run examples/checkaccess to see why")
	}

	if f.bench && srv == nil {
		return 2, errors.New("-bench needs -demo")
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &printer{w: stdout, limit: f.changes, done: cancel, ready: make(chan struct{}), watched: len(active)}
	var heapBefore uint64
	if f.bench {
		p.lat = newLatencies()
		heapBefore = heapInuse() // the fake with its mailboxes, and the store
	}
	w, err := impersonation.NewWatcher(store, saved.ID, p.handle, append(opts, impersonation.WithWatchFolders("inbox"))...)
	if err != nil {
		return 2, err
	}
	var wg sync.WaitGroup
	p.start = time.Now()
	if srv != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f.bench {
				// Measure the steady state: changes start once every
				// mailbox streams, and -duration counts from then.
				select {
				case <-p.ready:
				case <-wctx.Done():
					return
				}
				fmt.Fprintf(stderr, "All %d mailboxes streaming after %v\n", len(active), time.Since(p.start).Round(time.Millisecond))
				if f.duration > 0 {
					t := time.AfterFunc(f.duration, cancel)
					defer t.Stop()
				}
			}
			makeChanges(wctx, srv, active, f.rate, p.lat, stderr)
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); p.stats(wctx, w, srv, f.every) }()
	if f.bench {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-wctx.Done()
			p.heapDuring = heapInuse() // before Run returns: the watcher at work
			if f.memProf != "" {
				if err := writeHeapProfile(f.memProf); err != nil {
					fmt.Fprintln(stderr, "memprofile:", err)
				}
			}
		}()
	}
	runErr := w.Run(wctx)
	cancel()
	wg.Wait()
	if f.bench {
		fmt.Fprintf(stdout, "mailboxes    %d watched for %v at %.0f changes/s\n", len(active), time.Since(p.start).Round(time.Millisecond), f.rate)
		ops := srv.Stats().Operations
		fmt.Fprintf(stdout, "connections  %d open at the last count, at most %d at once; %d GetStreamingEvents requests logged, %d Subscribe, %d SyncFolderItems\n",
			p.lastStreams, p.maxStreams, ops["GetStreamingEvents"], ops["Subscribe"], ops["SyncFolderItems"])
		p.lat.report(stdout)
		fmt.Fprintf(stdout, "heap         %.1f MB in use before the watcher, %.1f MB while it ran: %.1f MB for the watcher and the fake's subscriptions\n",
			mb(heapBefore), mb(p.heapDuring), mb(p.heapDuring)-mb(heapBefore))
	}
	p.mu.Lock()
	fmt.Fprintf(stdout, "%d changes in %d batches\n", p.changes, p.batches)
	p.mu.Unlock()
	if runErr != nil && !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, context.DeadlineExceeded) {
		return 1, runErr
	}
	return 0, nil
}

// activeUsers returns the addresses of the organization's active users.
func activeUsers(ctx context.Context, store org.Store, id string) ([]string, error) {
	o, err := store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, u := range o.Users {
		if u.Sync.Status == org.Active {
			addrs = append(addrs, u.PrimarySMTP)
		}
	}
	return addrs, nil
}

// makeChanges delivers a message to a random mailbox rate times a second
// until ctx is done, through the fake's direct API (as if mail arrived).
func makeChanges(ctx context.Context, srv *scctest.Server, mailboxes []string, rate float64, lat *latencies, stderr io.Writer) {
	// The n-th change is due at start + n/rate; a late one is made at
	// once, so that the rate holds on average on a loaded machine.
	start := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for n := 1; ; n++ {
		t.Reset(time.Until(start.Add(time.Duration(float64(n) * float64(time.Second) / rate))))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		to := mailboxes[rand.IntN(len(mailboxes))]
		msg := scctest.Message{Subject: fmt.Sprintf("Demo change %d", n), Body: "Demo message.", From: "it@" + demo.Domain, To: []string{to}}
		at := time.Now()
		id, err := srv.AddItem(to, "inbox", msg)
		if err != nil {
			fmt.Fprintf(stderr, "adding a message to %s: %v\n", to, err)
			continue
		}
		if lat != nil {
			lat.made(id.ID, at)
		}
	}
}

// printer prints the changes and the live counts; its writer is used by
// one goroutine at a time.
type printer struct {
	mu      sync.Mutex
	w       io.Writer
	changes int
	batches int
	limit   int
	done    func()
	// -bench: the latencies, the fake's open streams and the heap.
	lat                     *latencies
	maxStreams, lastStreams int
	heapDuring              uint64
	start                   time.Time
	ready                   chan struct{} // closed when all watched mailboxes stream
	watched                 int
	readyClosed             bool // stats' own
}

// handle is the watcher's ChangeHandler.
func (p *printer) handle(_ context.Context, c impersonation.MailboxChanges) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.batches++
	if p.lat != nil {
		at := time.Now()
		for _, ch := range c.Changes {
			p.lat.seen(ch.ItemID.ID, at)
		}
		p.changes += len(c.Changes)
		return nil
	}
	now := time.Now().Format("15:04:05.000")
	for _, ch := range c.Changes {
		if p.limit > 0 && p.changes >= p.limit {
			break
		}
		p.changes++
		kind := string(ch.Type)
		full := ""
		if c.FullSync {
			full = " (full sync)"
		}
		fmt.Fprintf(p.w, "%s %-8s %s %s item %s%s\n", now, kind, c.Mailbox, c.Folder, short(ch.ItemID.ID), full)
	}
	if p.limit > 0 && p.changes >= p.limit {
		p.done()
	}
	return nil
}

// stats prints, every interval, the streaming connections (the distinct
// group anchors of the streaming mailboxes; with the fake also the
// connections it holds open) and the events per second.
func (p *printer) stats(ctx context.Context, w *impersonation.Watcher, srv *scctest.Server, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	last, lastAt := 0, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			anchors := map[string]bool{}
			streaming := 0
			for _, st := range w.Mailboxes() {
				if st.State == impersonation.WatchStreaming {
					streaming++
					anchors[st.Anchor] = true
				}
			}
			if streaming == p.watched && !p.readyClosed {
				close(p.ready)
				p.readyClosed = true
			}
			p.mu.Lock()
			rate := float64(p.changes-last) / now.Sub(lastAt).Seconds()
			last, lastAt = p.changes, now
			conns := fmt.Sprintf("%d connections", len(anchors))
			if srv != nil {
				open := srv.OpenStreams()
				p.maxStreams, p.lastStreams = max(p.maxStreams, open), open
				conns += fmt.Sprintf(" (%d open at the server)", open)
			}
			fmt.Fprintf(p.w, "-- %s, %d mailboxes streaming, %.1f events/s, %d changes\n", conns, streaming, rate, p.changes)
			p.mu.Unlock()
		}
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// short abbreviates an item id for display.
func short(id string) string {
	if len(id) <= 12 {
		return id
	}
	return "…" + id[len(id)-12:]
}
