package k0s

// containerdImportDir is k0s' fixed import directory for containerd configuration.
const containerdImportDir = "/etc/k0s/containerd.d"

// ContainerdDropInFile is mission-control's containerd configuration for k0s.
const ContainerdDropInFile = containerdImportDir + "/mission-control.toml"
