package sfnapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/posluha/posluha/local/engine"
	"github.com/posluha/posluha/local/sfnapi"
	"github.com/posluha/posluha/local/store"
)

// crashChildEnv names the bbolt file a child process serves; the child
// is this test binary running TestCrashChild.
const crashChildEnv = "SFNAPI_CRASH_CHILD_DB"

// TestCrashChild is the server process TestKillDuringStarts kills. It
// prints its address and serves until killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("runs as the child of TestKillDuringStarts")
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(engine.Config{Store: db})
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("listening http://%s\n", ln.Addr())
	_ = http.Serve(ln, sfnapi.New(eng, sfnapi.Options{Tokens: db}).Handler())
}

// TestKillDuringStarts kills the server process with SIGKILL while
// clients are starting executions, then opens its file: every execution
// whose StartExecution was acknowledged is there, because the API
// answers only after the store has synced the record.
func TestKillDuringStarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "sfn.db")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var url string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "listening %s", &url); err == nil {
			break
		}
	}
	if url == "" {
		t.Fatal("the child did not start")
	}
	go func() {
		for sc.Scan() { // keep the pipe drained
		}
	}()
	client := newClient(url)
	m, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("apply"), Definition: aws.String(waitMachine), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var acked []string
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				out, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn,
					Name: aws.String("app-" + strconv.Itoa(w) + "-" + strconv.Itoa(i)), Input: aws.String(`{}`)})
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, *out.ExecutionArn)
				if len(acked) >= 200 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-enough:
	case <-ctx.Done():
		t.Fatal("too slow")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown code runs
		t.Fatal(err)
	}
	wg.Wait()
	_ = cmd.Wait()

	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mu.Lock()
	defer mu.Unlock()
	for _, arn := range acked {
		x, err := db.GetExecution(context.Background(), arn)
		if err != nil || x.Status != engine.StatusRunning {
			t.Errorf("acknowledged %s: %v %v", arn, x, err)
		}
	}
	t.Logf("%d acknowledged starts, all found after SIGKILL", len(acked))
}
