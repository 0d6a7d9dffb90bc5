// Command importbench measures what issue 4 asks about: importing N users
// from a Get-Mailbox | Export-Csv file and saving the organization with the
// file store, reporting wall time and the process's peak memory (ru_maxrss).
//
//	go run ./org/internal/importbench -users 100000
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/org/internal/testcsv"
)

func main() {
	users := flag.Int("users", 100000, "number of users in the CSV")
	flag.Parse()
	if err := run(*users); err != nil {
		fmt.Fprintln(os.Stderr, "importbench:", err)
		os.Exit(1)
	}
}

func run(n int) error {
	dir, err := os.MkdirTemp("", "importbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Write the CSV to disk first so it is streamed, as an upload would be.
	csvPath := filepath.Join(dir, "users.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := testcsv.Write(w, n); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	f.Close()
	info, _ := os.Stat(csvPath)
	runtime.GC()

	ctx := context.Background()
	key, err := org.NewFileStoreKey()
	if err != nil {
		return err
	}
	start := time.Now()
	in, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	o := &org.Organization{ID: "bench", Name: "Bench", Email: org.EmailConfiguration{
		AccountLogon: `CONTOSO\svc-sync`, Password: org.NewSecret("pw"), EWSURL: "https://mail.contoso.com/EWS/Exchange.asmx",
	}}
	res, err := o.ImportCSV(bufio.NewReaderSize(in, 256<<10))
	in.Close()
	if err != nil {
		return err
	}
	imported := time.Since(start)
	store, err := org.OpenFileStore(filepath.Join(dir, "store"), org.FileStoreOptions{Key: key})
	if err != nil {
		return err
	}
	if _, err := store.Create(ctx, o); err != nil {
		return err
	}
	total := time.Since(start)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	saveRSS := ru.Maxrss

	loadStart := time.Now()
	got, err := store.Get(ctx, "bench")
	if err != nil {
		return err
	}
	load := time.Since(loadStart)
	stored, _ := os.Stat(filepath.Join(dir, "store", "org-bench.json"))

	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("users: %d (%s), CSV %.1f MB, stored file %.1f MB\n", len(got.Users), res, mb(info.Size()), mb(stored.Size()))
	fmt.Printf("import CSV: %v, import + save: %v, load back: %v\n", imported.Round(time.Millisecond), total.Round(time.Millisecond), load.Round(time.Millisecond))
	fmt.Printf("peak RSS (ru_maxrss): %.1f MB after import + save, %.1f MB after loading back\n", float64(saveRSS)/1024, float64(ru.Maxrss)/1024)
	return nil
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }
