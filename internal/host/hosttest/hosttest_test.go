package hosttest

import (
	"context"
	"testing"

	"github.com/datastax/mission-control/internal/host"
)

func TestEmpty(t *testing.T) {
	if e, _ := (Empty{}).Exists("/"); !e {
		t.Error("the root must exist")
	}
	if e, _ := (Empty{}).Exists("/etc"); e {
		t.Error("/etc exists on an empty host")
	}
	if _, err := (Empty{}).Sysctl("net.ipv4.ip_forward"); err == nil {
		t.Error("an empty host has a sysctl")
	}
}

func TestStubbedAnswersAndRecords(t *testing.T) {
	s := Stubbed{Recorder: host.NewRecorder(Empty{}), Out: map[string]string{"nft list tables": "table ip filter\n"}}
	out, err := s.Run(context.Background(), host.Command{Name: "nft", Args: []string{"list", "tables"}})
	if err != nil || string(out) != "table ip filter\n" {
		t.Errorf("stubbed command: %q, %v", out, err)
	}
	if out, _ := s.Run(context.Background(), host.Command{Name: "true"}); out != nil {
		t.Errorf("unstubbed command answered %q", out)
	}
	if ops := s.Ops(); len(ops) != 2 || ops[0].Command != "nft list tables" {
		t.Errorf("ops = %v", ops)
	}
}
