// Package preflighttest builds host facts for tests: what troubleshoot's collectors would have
// collected on a host, and a host every check passes on.
package preflighttest

import (
	"context"
	"encoding/json"
	"net/netip"

	"github.com/replicatedhq/troubleshoot/pkg/collect"

	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/installer/preflight/hostpreflight"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/network"
)

// Host describes the troubleshoot-collected parts of a host.
type Host struct {
	CPUs          int
	MemoryBytes   uint64
	Platform      string // as troubleshoot's hostOS collector reports it: ubuntu, debian, rocky...
	Version       string
	KernelConfigs collect.KConfigs
	// CgroupControllers are the enabled cgroup v2 controllers.
	CgroupControllers []string
}

// Roomy is a host with room for either mode, on a tested distribution and kernel.
func Roomy() Host {
	return Host{CPUs: 8, MemoryBytes: 32 << 30, Platform: "ubuntu", Version: "24.04",
		KernelConfigs: collect.KConfigs{"CONFIG_OVERLAY_FS": "m", "CONFIG_BRIDGE": "m", "CONFIG_BRIDGE_NETFILTER": "m",
			"CONFIG_VETH": "m", "CONFIG_NF_CONNTRACK": "m", "CONFIG_NF_NAT": "m", "CONFIG_NF_TABLES": "m"},
		CgroupControllers: []string{"cpuset", "cpu", "io", "memory", "hugetlb", "pids"}}
}

// Collected is the files troubleshoot's host collectors write for h, by path.
func (h Host) Collected() map[string][]byte {
	cgroups := map[string]any{"cgroup-enabled": true, "allControllers": h.CgroupControllers,
		"cgroup-v1": map[string]any{"enabled": false},
		"cgroup-v2": map[string]any{"enabled": true, "mountPoint": "/sys/fs/cgroup", "controllers": h.CgroupControllers}}
	return map[string][]byte{
		collect.HostCPUPath:                   mustJSON(collect.CPUInfo{LogicalCount: h.CPUs, PhysicalCount: h.CPUs, MachineArch: "x86_64"}),
		collect.HostMemoryPath:                mustJSON(collect.MemoryInfo{Total: h.MemoryBytes}),
		collect.HostOSInfoPath:                mustJSON(collect.HostOSInfo{Name: "test", Platform: h.Platform, PlatformVersion: h.Version, KernelVersion: "6.8.0"}),
		collect.HostKernelConfigsPath:         mustJSON(h.KernelConfigs),
		"host-collectors/system/cgroups.json": mustJSON(cgroups),
	}
}

// Facts is a host every check of ours passes on, in either mode, with troubleshoot's verdicts
// on h for mode.
func (h Host) Facts(mode string) preflight.Facts {
	spec, err := hostpreflight.Spec(context.Background(), mode)
	if err != nil {
		panic(err)
	}
	return preflight.Facts{
		Analyzed:       hostpreflight.Analyze(context.Background(), spec, h.Collected(), nil),
		DiskFreeBytes:  500 << 30,
		DiskTotalBytes: 1000 << 30,
		DiskPath:       "/var/lib",
		DataDirMount:   host.Mount{Point: "/", FSType: "ext4", Options: []string{"rw", "relatime"}},
		Taken: []network.Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eth0"},
			{Dst: netip.MustParsePrefix("192.0.2.0/24"), Interface: "eth0"}},
		Node:        network.Node{Interface: "eth0", Address: netip.MustParseAddr("192.0.2.2")},
		Tools:       map[string]string{"xtables-nft-multi": "/usr/sbin/xtables-nft-multi", "nft": "/usr/sbin/nft", "ip": "/usr/bin/ip"},
		Hostname:    "cp-east-1",
		ClockSynced: true,
		Systemd:     true,
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
