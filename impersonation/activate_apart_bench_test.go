package impersonation

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// BenchmarkActivateApart is BenchmarkActivateAtLatency's no-op run
// ("again") and its control ("noplan") with the fake in a process of its
// own (examples/fakeexchange, built for the run), as Exchange is another
// machine: the client's process pays for its own CPU and garbage only,
// while both still share the machine's cores. Its ratio has the same
// definition: wall time over requests per user × users × latency ÷
// concurrency. Run it with -benchtime=1x; it needs the go command.
func BenchmarkActivateApart(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "fakeexchange")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/sccsync/scc/examples/fakeexchange").CombinedOutput(); err != nil {
		b.Fatalf("go build examples/fakeexchange: %v\n%s", err, out)
	}
	for _, mode := range []string{"again", "noplan"} {
		b.Run(mode, func(b *testing.B) {
			var ratio, cores, perUser float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				fake := startFakeProcess(b, bin, benchUsers)
				store := org.NewMemoryStore()
				users := make([]org.User, benchUsers)
				for j := range users {
					users[j] = org.User{PrimarySMTP: fmt.Sprintf("user%d@contoso.example", j+1), ImpersonateBy: org.IdentityPrimarySMTP}
				}
				o := &org.Organization{Name: "Contoso", Domains: []string{"contoso.example"}, Users: users, Email: org.EmailConfiguration{
					AccessType: org.Impersonation, AccountLogon: fakeLogon, Password: org.NewSecret(fakePassword),
					EWSURL: fake.ews, AuthMethod: org.AuthBasic,
				}}
				if mode == "again" {
					o.Provisioning = org.DefaultProvisioningPlan("CRM")
				}
				o, err := store.Create(context.Background(), o)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				opts := []Option{WithEWSOptions(ews.WithInsecureSkipVerify()), WithConcurrency(benchConcurrency), WithRetryBudget(RetryBudget{BaseDelay: 1})}
				if mode == "again" {
					if ar, err := Activate(ctx, store, o.ID, opts...); err != nil || ar.Provisioned != benchUsers {
						b.Fatalf("Activate(first) = %+v, %v; want %d provisioned", ar, err, benchUsers)
					}
				}
				fake.put(b, "/v1/latency", fmt.Sprintf(`{"fixed": %q}`, benchLatency))
				sent := fake.requests(b)
				runtime.GC()
				b.StartTimer()
				start, cpu0 := time.Now(), processCPU()
				ar, err := Activate(ctx, store, o.ID, opts...)
				wall, cpu := time.Since(start), processCPU()-cpu0
				b.StopTimer()
				if want := benchUsers * boolInt(mode != "noplan"); err != nil || ar.Activated+ar.Unchanged != benchUsers || ar.Provisioned != want {
					b.Fatalf("Activate(%s) = %+v, %v; want %d provisioned", mode, ar, err, want)
				}
				perUser = float64(fake.requests(b)-sent-1) / benchUsers
				ideal := perUser * benchUsers * benchLatency.Seconds() / benchConcurrency
				ratio = wall.Seconds() / ideal
				cores = cpu.Seconds() / wall.Seconds()
				b.Logf("%s apart: %.2f requests/user, %s wall, %.1fs ideal, ratio %.3f, the client's process %.2f cores busy of %d",
					mode, perUser, wall.Round(time.Millisecond), ideal, ratio, cores, runtime.NumCPU())
				fake.stop()
			}
			b.ReportMetric(perUser, "requests/user")
			b.ReportMetric(ratio, "ratio")
			b.ReportMetric(cores, "client-cores")
		})
	}
}

const (
	fakeLogon    = `CONTOSO\svc-sync`
	fakePassword = "Bench-Passw0rd!"
)

// fakeProcess is a running examples/fakeexchange.
type fakeProcess struct {
	cmd     *exec.Cmd
	ews     string
	control string
}

// startFakeProcess starts bin with n mailboxes over TLS, Basic only, with
// its control API, and waits for it to print its endpoints.
func startFakeProcess(b *testing.B, bin string, n int) *fakeProcess {
	b.Helper()
	cmd := exec.Command(bin, "-users", fmt.Sprint(n), "-tls", "-auth", "basic", "-service", fakeLogon,
		"-password", fakePassword, "-control", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting %s: %v", bin, err)
	}
	f := &fakeProcess{cmd: cmd}
	b.Cleanup(f.stop)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(2 * time.Minute)
	for f.ews == "" || f.control == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				b.Fatalf("%s ended before printing its endpoints", bin)
			}
			if v, ok := strings.CutPrefix(l, "EWS endpoint: "); ok {
				f.ews = v
			}
			if v, ok := strings.CutPrefix(l, "control API: "); ok {
				f.control = strings.TrimSuffix(v, "/v1/")
			}
		case <-timeout:
			b.Fatalf("%s printed no endpoints within 2 minutes", bin)
		}
	}
	go func() {
		for range lines { // keep the pipe drained
		}
	}()
	return f
}

// put sends a JSON PUT to the control API.
func (f *fakeProcess) put(b *testing.B, path, body string) {
	b.Helper()
	req, err := http.NewRequest(http.MethodPut, f.control+path, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatalf("PUT %s: %v", path, err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("PUT %s = %s: %s", path, res.Status, bytes.TrimSpace(msg))
	}
}

// requests returns the fake's request counter.
func (f *fakeProcess) requests(b *testing.B) int {
	b.Helper()
	res, err := http.Get(f.control + "/v1/stats")
	if err != nil {
		b.Fatalf("GET /v1/stats: %v", err)
	}
	defer res.Body.Close()
	var st struct {
		Requests int `json:"requests"`
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		b.Fatalf("GET /v1/stats: %v", err)
	}
	return st.Requests
}

// stop kills the process (it keeps all state in memory) and waits for it.
func (f *fakeProcess) stop() {
	if f.cmd.Process != nil && f.cmd.ProcessState == nil {
		_ = f.cmd.Process.Kill()
		_ = f.cmd.Wait()
	}
}
