//go:build linux

package agent

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gone waits until pid no longer runs (a zombie counts as gone) and fails
// the test if it still does after a generous bound.
func gone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
	}
}

// startOrphan starts, in its own process group, what a killed host leaves
// behind: a shell (the agent) with a child of its own, both carrying the
// turn in their environment. It returns the shell and its child's pid.
func startOrphan(t *testing.T, turnID string) (*exec.Cmd, int) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "sleep 60 & echo $!; wait")
	cmd.Env = append(os.Environ(), TurnEnv("th", turnID)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	return cmd, child
}

// TestKillLeftoversKillsTheTurnsProcesses: the processes of a turn are
// killed with their children; another turn's are left alone.
func TestKillLeftoversKillsTheTurnsProcesses(t *testing.T) {
	agentProc, child := startOrphan(t, "turn-lost")
	other, otherChild := startOrphan(t, "turn-other")
	if n := KillLeftovers("turn-lost"); n < 1 {
		t.Fatalf("KillLeftovers found %d processes", n)
	}
	_ = agentProc.Wait()
	gone(t, child)
	if err := syscall.Kill(other.Process.Pid, 0); err != nil {
		t.Errorf("another turn's agent was killed: %v", err)
	}
	if err := syscall.Kill(otherChild, 0); err != nil {
		t.Errorf("another turn's agent's child was killed: %v", err)
	}
	if n := KillLeftovers("turn-nobody"); n != 0 {
		t.Errorf("KillLeftovers found %d processes of a turn nothing runs", n)
	}
}

// TestAgentDiesWithItsHost: a host killed with SIGKILL takes its agent
// with it (the parent-death signal), though nothing in the host runs.
func TestAgentDiesWithItsHost(t *testing.T) {
	if os.Getenv("PEON_TEST_AGENT_HOST") == "1" {
		p, err := StartProcess(context.Background(), ProcessConfig{Argv: []string{"sleep", "60"}})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(p.cmd.Process.Pid)
		select {} // until killed
	}
	host := exec.Command(os.Args[0], "-test.run=^TestAgentDiesWithItsHost$")
	host.Env = append(os.Environ(), "PEON_TEST_AGENT_HOST=1")
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	agentPid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("the host said %q", line)
	}
	t.Cleanup(func() { _ = syscall.Kill(agentPid, syscall.SIGKILL) })
	if err := host.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	gone(t, agentPid)
}
