// Package node is cassandra-standin: a test double of a Cassandra node with its management API
// (management-api-for-apache-cassandra), speaking the endpoints cass-operator v1.30.0 and
// k8ssandra-operator v1.32.3 call, and keeping a small ring with its peers over the internode
// port (7000, or 7001 with mutual TLS from the keystore and truststore cassandra.yaml names).
// It stores nothing of a database: it is for testing the platform, never for running data.
package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The files the config builder writes into the config volume (/config) and the server reads,
// as the real ones do: cassandra.yaml (written as JSON, which is YAML too) and
// cassandra-rackdc.properties; standin.json carries what the real server learns elsewhere.
const (
	YAMLFile    = "cassandra.yaml"
	RackDCFile  = "cassandra-rackdc.properties"
	StandinFile = "standin.json"
)

// Config is what a node reads from the config volume.
type Config struct {
	ClusterName string
	DC, Rack    string
	// Seeds are the names (cass-operator's seed services) or addresses the node dials to join.
	Seeds          []string
	ProductVersion string
	Encryption     Encryption
}

// Encryption is cassandra.yaml's server_encryption_options: internode TLS from a PKCS#12
// keystore and truststore with their passwords.
type Encryption struct {
	InternodeEncryption string `json:"internode_encryption"` // none, all, dc or rack
	Keystore            string `json:"keystore"`
	KeystorePassword    string `json:"keystore_password"`
	Truststore          string `json:"truststore"`
	TruststorePassword  string `json:"truststore_password"`
}

// Enabled says whether internode traffic is TLS (on ssl_storage_port, 7001).
func (e Encryption) Enabled() bool {
	return e.InternodeEncryption != "" && e.InternodeEncryption != "none"
}

// cassandraYAML is the part of cassandra.yaml the stand-in reads.
type cassandraYAML struct {
	ClusterName  string `json:"cluster_name"`
	SeedProvider []struct {
		ClassName  string              `json:"class_name"`
		Parameters []map[string]string `json:"parameters"`
	} `json:"seed_provider"`
	ServerEncryptionOptions Encryption `json:"server_encryption_options"`
}

type standinFile struct {
	ProductVersion string `json:"product_version"`
}

// Render writes the config files from cass-operator's CONFIG_FILE_DATA (the JSON it hands the
// config builder: cluster-info, datacenter-info, cassandra-yaml, jvm options), the rack and the
// product version, as cass-config-builder does for the real server.
func Render(dir, configFileData, rack, productVersion string) error {
	var data struct {
		ClusterInfo struct {
			Name  string `json:"name"`
			Seeds string `json:"seeds"`
		} `json:"cluster-info"`
		DatacenterInfo struct {
			Name string `json:"name"`
		} `json:"datacenter-info"`
		CassandraYAML map[string]any `json:"cassandra-yaml"`
	}
	if err := json.Unmarshal([]byte(configFileData), &data); err != nil {
		return fmt.Errorf("CONFIG_FILE_DATA is not cass-operator's JSON: %w", err)
	}
	if data.ClusterInfo.Name == "" || data.DatacenterInfo.Name == "" || rack == "" {
		return errors.New("CONFIG_FILE_DATA names no cluster or datacenter, or RACK_NAME is empty")
	}
	yaml := map[string]any{}
	for k, v := range data.CassandraYAML {
		yaml[k] = v
	}
	yaml["cluster_name"] = data.ClusterInfo.Name
	yaml["endpoint_snitch"] = "GossipingPropertyFileSnitch"
	yaml["seed_provider"] = []any{map[string]any{
		"class_name": "org.apache.cassandra.locator.K8SeedProvider",
		"parameters": []any{map[string]string{"seeds": data.ClusterInfo.Seeds}},
	}}
	files := map[string]any{YAMLFile: yaml, StandinFile: standinFile{ProductVersion: productVersion}}
	for name, v := range files {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	rackdc := fmt.Sprintf("dc=%s\nrack=%s\n", data.DatacenterInfo.Name, rack)
	return os.WriteFile(filepath.Join(dir, RackDCFile), []byte(rackdc), 0o644)
}

// LoadConfig reads the config files Render wrote.
func LoadConfig(dir string) (Config, error) {
	var y cassandraYAML
	if err := readJSON(filepath.Join(dir, YAMLFile), &y); err != nil {
		return Config{}, err
	}
	var s standinFile
	if err := readJSON(filepath.Join(dir, StandinFile), &s); err != nil {
		return Config{}, err
	}
	c := Config{ClusterName: y.ClusterName, ProductVersion: s.ProductVersion, Encryption: y.ServerEncryptionOptions}
	for _, p := range y.SeedProvider {
		for _, params := range p.Parameters {
			for _, seed := range strings.Split(params["seeds"], ",") {
				if seed = strings.TrimSpace(seed); seed != "" {
					c.Seeds = append(c.Seeds, seed)
				}
			}
		}
	}
	props, err := os.ReadFile(filepath.Join(dir, RackDCFile))
	if err != nil {
		return Config{}, err
	}
	for _, line := range strings.Split(string(props), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			switch k {
			case "dc":
				c.DC = v
			case "rack":
				c.Rack = v
			}
		}
	}
	if c.ClusterName == "" || c.DC == "" || c.Rack == "" {
		return Config{}, fmt.Errorf("%s names no cluster, datacenter or rack", dir)
	}
	return c, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
