{{/* Labels every object carries (the release's: status lists the provisioner with the operators). */}}
{{- define "ls.labels" -}}
app.kubernetes.io/part-of: mission-control
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "ls.name" -}}local-path-provisioner{{- end }}

{{/* ls.class renders a StorageClass of the provisioner. Arguments: root, name, default (bool). */}}
{{- define "ls.class" -}}
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {{ .name }}
  labels: {{- include "ls.labels" .root | nindent 4 }}
  annotations:
    storageclass.kubernetes.io/is-default-class: {{ .default | quote }}
provisioner: {{ .root.Values.provisionerName }}
parameters:
  # A volume's directory names its claim's namespace and name and its PV (internal/localvolume).
  pathPattern: {{ `"{{ .PVC.Namespace }}_{{ .PVC.Name }}_{{ .PVName }}"` }}
# The volume is made on the node the pod is scheduled to, once it is.
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
# A directory has no size to grow: the API server refuses a larger request on such a claim.
allowVolumeExpansion: false
{{- end }}
